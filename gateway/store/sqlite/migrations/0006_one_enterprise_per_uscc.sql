-- One enterprise participant acts for a USCC at a time: a second one could read, revoke and grant the first one's
-- consents (they are the USCC's). Re-enrolment revokes the old participant in the same transaction as it adds the
-- new one. A database that already holds two such participants refuses this migration: revoke one of them first.
CREATE UNIQUE INDEX participants_one_enterprise_per_uscc ON participants (uscc) WHERE role = 'enterprise' AND status <> 'revoked';
