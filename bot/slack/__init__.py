"""The Slack side: identifiers, listeners and Block Kit builders."""
