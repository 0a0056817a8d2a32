"""The reward domain: parsing commands, the giving rules, and (later) the services around them."""
