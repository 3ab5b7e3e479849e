"""Swift's wire contract, apart from any server: what the object store and the proxy both speak.

``faults`` (fixed texts per status), ``limits`` and ``info`` (constraints and what ``/info``
advertises), ``names`` (account, container and object names in a path), ``metadata`` (metadata
and object headers), ``listing`` (listing queries and their plain, JSON and XML formats) and
``tempurl`` (signatures). Nothing here touches a database or a socket.
"""
