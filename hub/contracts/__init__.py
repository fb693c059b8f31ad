"""The published contract per partner kind: AsyncAPI 3.0 documents and JSON Schemas.

``catalog`` says which native messages a kind sends and receives (read from its adapter),
``examples`` derives the message examples from the golden examples along the hub's own path,
``asyncapi`` builds the documents with faststream, ``files`` writes them to ``docs/contracts``.
"""
