-- Outbox of webhook deliveries to tenants' callback_url: written in the conversation grain's turn, delivered by the
-- dispatcher on any silo (FOR UPDATE SKIP LOCKED), every attempt logged on the row.
CREATE TABLE webhook_deliveries (
    id              bigserial   PRIMARY KEY,
    tenant_id       text        NOT NULL,
    conversation_id text        NOT NULL,
    event_seq       bigint      NOT NULL,
    event_type      text        NOT NULL,
    url             text        NOT NULL,
    body            text        NOT NULL,
    status          text        NOT NULL DEFAULT 'pending',  -- pending | delivered | failed
    attempts        integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    last_status     integer     NULL,
    last_error      text        NULL,
    created_at      timestamptz NOT NULL,
    delivered_at    timestamptz NULL,
    UNIQUE (tenant_id, conversation_id, event_seq)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_conversation ON webhook_deliveries (tenant_id, conversation_id, id);
