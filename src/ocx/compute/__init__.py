"""Nova v2.1 compute service of one landlord, with a simulated hypervisor."""
