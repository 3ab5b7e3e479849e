"""Nova, Cinder and Glance through the proxy: thin layers over the generic core."""
