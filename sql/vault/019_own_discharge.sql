-- A row discharged apart from its family (a NICU baby going home days after its mother) is written by
-- an event of its own, when it happens: a dump taken during the baby's stay shows no discharge yet.
ALTER TABLE canary_events DROP CONSTRAINT canary_events_kind_check;
ALTER TABLE canary_events ADD CONSTRAINT canary_events_kind_check CHECK (kind IN ('admission', 'birth', 'discharge', 'own_discharge'));
