-- Roles of the admin console (issue 12). The super administrator stays the
-- `users.is_admin` flag; the other roles are rows here: `unit_admin` (people
-- of their own `users.unit` only), `clerk` (văn thư: applies the office's
-- signature) and `auditor` (reads, changes nothing).
CREATE TABLE user_roles (
    user_id     TEXT NOT NULL REFERENCES users (id),
    role        TEXT NOT NULL,
    granted_by  TEXT NOT NULL,               -- a user id, or `cli`
    granted_at  BIGINT NOT NULL,
    PRIMARY KEY (user_id, role)
);
CREATE INDEX user_roles_role ON user_roles (role);

-- The name without diacritics, lower case, for the console's search ("nguyen
-- van hung" finds "Nguyễn Văn Hùng"). Filled by the IdP (Rust folds it); a
-- change of name empties it so the next search folds it again.
ALTER TABLE users ADD COLUMN name_folded TEXT;
CREATE INDEX users_name_folded ON users (name_folded);
CREATE INDEX users_unit ON users (unit);
CREATE TRIGGER users_name_refold AFTER UPDATE OF name ON users
    FOR EACH ROW WHEN NEW.name IS NOT OLD.name
BEGIN
    UPDATE users SET name_folded = NULL WHERE id = NEW.id;
END;

CREATE INDEX audit_events_actor ON audit_events (actor);
