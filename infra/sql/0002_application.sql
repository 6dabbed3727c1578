-- Application tables: tenant-scoped listing index, conversation events, idempotency records, tenant directory.
-- Every row carries tenant_id and every query filters on it.

CREATE TABLE tenant_directory (
    tenant_id   text        PRIMARY KEY,
    name        text        NOT NULL,
    created_at  timestamptz NOT NULL
);

-- One row per replica / persona / conversation: the list view (summary) and, for live conversations, the next
-- instant at which a limit ends them (read by the deadline sweeper).
CREATE TABLE resource_index (
    tenant_id     text        NOT NULL,
    kind          smallint    NOT NULL,   -- 0 replica, 1 persona, 2 conversation (ResourceKind)
    local_id      text        NOT NULL,
    status        text        NULL,
    created_at    timestamptz NOT NULL,
    next_deadline timestamptz NULL,
    summary       jsonb       NOT NULL,
    PRIMARY KEY (tenant_id, kind, local_id)
);
CREATE INDEX resource_index_listing ON resource_index (tenant_id, kind, created_at DESC, local_id DESC);
CREATE INDEX resource_index_status ON resource_index (tenant_id, kind, status, created_at DESC);
CREATE INDEX resource_index_deadline ON resource_index (next_deadline) WHERE next_deadline IS NOT NULL;

-- Append-only: billing and the verbose GET read it; seq makes every append idempotent.
CREATE TABLE conversation_events (
    tenant_id       text        NOT NULL,
    conversation_id text        NOT NULL,
    seq             bigint      NOT NULL,
    event_type      text        NOT NULL,
    message_type    text        NOT NULL,
    ts              timestamptz NOT NULL,
    turn_idx        integer     NULL,
    inference_id    text        NULL,
    properties      jsonb       NOT NULL,
    PRIMARY KEY (tenant_id, conversation_id, seq)
);

-- Idempotency-Key records for POST /v2/conversations, kept 24 h.
CREATE TABLE idempotency_records (
    tenant_id       text        NOT NULL,
    key_hash        text        NOT NULL,
    request_hash    text        NOT NULL,
    conversation_id text        NOT NULL,
    created_at      timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, key_hash)
);
CREATE INDEX idempotency_records_age ON idempotency_records (created_at);
