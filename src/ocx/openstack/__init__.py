"""What the OpenStack JSON APIs (Nova, Cinder, ...) share on the wire, apart from any server:
``microversions`` (reading, negotiating and echoing ``OpenStack-API-Version``)."""
