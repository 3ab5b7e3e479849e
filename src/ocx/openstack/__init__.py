"""What the OpenStack JSON APIs (Nova, Cinder, Glance) share on the wire, apart from any
server: ``microversions`` (reading and negotiating ``OpenStack-API-Version``) and ``links``
(the next page of a listing)."""
