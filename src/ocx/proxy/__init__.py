"""The mix-and-match proxy: one Swift account over the object stores of several landlords."""
