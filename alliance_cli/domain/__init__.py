"""Pure clinical logic: plain functions over plain data, no I/O and no ORM."""
