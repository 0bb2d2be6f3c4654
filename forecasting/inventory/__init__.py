"""The inventory optimizer: reorder policies per store x product, the plan and its replay."""
