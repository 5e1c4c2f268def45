"""Domain facts that several rules may ask about, each with its source."""
