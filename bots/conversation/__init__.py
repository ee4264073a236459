"""The platform-neutral conversation: chat text in, replies out; each adapter renders them."""
