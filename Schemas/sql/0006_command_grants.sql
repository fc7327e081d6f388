-- The command history keeps who changed an option that needs the admin grant (OptionGrant:
-- options gsyncd runs as root, or keeps its state by) and what they set: the AMQP user the
-- worker granted it to (the broker-checked user_id; the API's own user for the API's admin
-- tokens), the option as the command named it, its class, and the value (NULL for a reset).
-- A command that arrived on the bus without the API has no accepted row: its sender comes
-- with the result.
ALTER TABLE georep_commands
    ADD COLUMN granted_to   VARCHAR(255),
    ADD COLUMN option_name  VARCHAR(64),
    ADD COLUMN option_kind  VARCHAR(16),
    ADD COLUMN option_value TEXT;
CREATE INDEX idx_georep_commands_granted ON georep_commands (finished_at) WHERE granted_to IS NOT NULL;
