"""The MCP face: the product's answers as tools for assistants (``rag ui --mcp``)."""
