"""pb_vote: participatory budgeting for partnership tables."""
