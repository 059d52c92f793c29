-- The console's people of one unit, in name order, read from one index.
CREATE INDEX users_unit_name ON users (unit, name_folded, email);
