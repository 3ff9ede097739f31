"""The NoSQL family: document stores, search engines, key-value and wide-column stores."""
