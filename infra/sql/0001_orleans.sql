-- Orleans 10.4.2 AdoNet providers (clustering, grain storage, reminders) on PostgreSQL.
--
-- The providers ship no SQL: they read their query texts from OrleansQuery at start and call them with named
-- parameters (@Name), reading result columns by name. This file is written for this project to that contract:
--   * parameter names/types and result column names come from the providers' C# code (RelationalOrleansQueries,
--     DbStoredQueries.Columns, AdoNetGrainStorage);
--   * DateTime parameters arrive with DbType.DateTime, which Npgsql sends as timestamptz (UTC), so every time column
--     is timestamptz;
--   * the unquoted names the providers use (OrleansQuery, QueryKey, Version, ...) fold to lower case, so our
--     lower-case tables and columns match them. Npgsql matches result column names case-insensitively.

CREATE TABLE orleansquery (
    querykey  varchar(64) PRIMARY KEY,
    querytext text NOT NULL
);

-- ---------------------------------------------------------------------------------------------------------------
-- Clustering. One version row per cluster (the provider's "DeploymentId" is Orleans' ClusterId); every membership
-- change bumps it, and a change is applied only when the caller saw the previous version (optimistic concurrency
-- that the membership protocol relies on).
-- ---------------------------------------------------------------------------------------------------------------
CREATE TABLE orleans_membership_version (
    cluster_id text PRIMARY KEY,
    version    integer NOT NULL DEFAULT 0,
    changed_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE orleans_membership (
    cluster_id      text NOT NULL REFERENCES orleans_membership_version (cluster_id) ON DELETE CASCADE,
    address         text NOT NULL,
    port            integer NOT NULL,
    generation      integer NOT NULL,
    silo_name       text NOT NULL,
    host_name       text NOT NULL,
    status          integer NOT NULL,      -- Orleans SiloStatus: 3 Active, 4 ShuttingDown, 5 Stopping, 6 Dead, ...
    proxy_port      integer NOT NULL,      -- gateway port, 0 when the silo is no gateway
    suspect_times   text,                  -- "silo,time|silo,time" as the provider formats it
    start_time      timestamptz NOT NULL,
    i_am_alive_time timestamptz NOT NULL,
    PRIMARY KEY (cluster_id, address, port, generation)
);

-- ---------------------------------------------------------------------------------------------------------------
-- Grain storage. A row is one grain's state under one state name ([PersistentState("name")] is "grain_type").
-- The key is the provider's decomposition of the grain id: two 64-bit halves (integer and Guid keys) and a string
-- (string keys, or the key extension). version is the ETag: every write must present the version it read, and the
-- update/insert is conditional on it, so a stale writer gets no row back and the provider throws
-- InconsistentStateException.
-- ---------------------------------------------------------------------------------------------------------------
CREATE TABLE orleans_grain_state (
    service_id      text NOT NULL,
    grain_type      text NOT NULL,
    grain_type_hash integer NOT NULL,
    grain_id_n0     bigint NOT NULL,
    grain_id_n1     bigint NOT NULL,
    grain_id_ext    text,
    grain_id_hash   integer NOT NULL,
    payload         bytea,                 -- NULL after a clear that keeps the row (its version lives on)
    version         integer NOT NULL,
    modified_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT orleans_grain_state_key
        UNIQUE NULLS NOT DISTINCT (service_id, grain_type, grain_id_n0, grain_id_n1, grain_id_ext)
);

-- ---------------------------------------------------------------------------------------------------------------
-- Reminders. grain_hash is the grain's uniform hash (a uint on the ring, stored as the signed int the provider
-- passes); the reminder service reads the rows of the ring range it owns. version is the reminder's ETag.
-- ---------------------------------------------------------------------------------------------------------------
CREATE TABLE orleans_reminder (
    service_id    text NOT NULL,
    grain_id      text NOT NULL,
    reminder_name text NOT NULL,
    grain_hash    integer NOT NULL,
    start_time    timestamptz NOT NULL,
    period_ms     bigint NOT NULL,
    version       integer NOT NULL,
    PRIMARY KEY (service_id, grain_id, reminder_name)
);

CREATE INDEX orleans_reminder_ring ON orleans_reminder (service_id, grain_hash);

-- ---------------------------------------------------------------------------------------------------------------
-- Query rows.
-- ---------------------------------------------------------------------------------------------------------------
INSERT INTO orleansquery (querykey, querytext) VALUES

-- Creates the cluster's version row if missing; answers whether this call created it.
('InsertMembershipVersionKey', $q$
WITH inserted AS (
    INSERT INTO orleans_membership_version (cluster_id, version)
    VALUES (@DeploymentId, 0)
    ON CONFLICT (cluster_id) DO NOTHING
    RETURNING 1
)
SELECT EXISTS (SELECT 1 FROM inserted)
$q$),

-- Both reads return the table version on every row, and one row (with NULL silo columns) when the cluster has no
-- silos yet: the provider takes the table version from the first row and a NULL start_time as "no entry".
('MembershipReadAllKey', $q$
SELECT v.version      AS "Version",
       m.address      AS "Address",
       m.port         AS "Port",
       m.generation   AS "Generation",
       m.silo_name    AS "SiloName",
       m.host_name    AS "HostName",
       m.status       AS "Status",
       m.proxy_port   AS "ProxyPort",
       m.suspect_times AS "SuspectTimes",
       m.start_time   AS "StartTime",
       m.i_am_alive_time AS "IAmAliveTime"
FROM orleans_membership_version v
LEFT JOIN orleans_membership m ON m.cluster_id = v.cluster_id
WHERE v.cluster_id = @DeploymentId
$q$),

('MembershipReadRowKey', $q$
SELECT v.version      AS "Version",
       m.address      AS "Address",
       m.port         AS "Port",
       m.generation   AS "Generation",
       m.silo_name    AS "SiloName",
       m.host_name    AS "HostName",
       m.status       AS "Status",
       m.proxy_port   AS "ProxyPort",
       m.suspect_times AS "SuspectTimes",
       m.start_time   AS "StartTime",
       m.i_am_alive_time AS "IAmAliveTime"
FROM orleans_membership_version v
LEFT JOIN orleans_membership m
       ON m.cluster_id = v.cluster_id
      AND m.address = @Address AND m.port = @Port AND m.generation = @Generation
WHERE v.cluster_id = @DeploymentId
$q$),

-- @Version is the table version's ETag the caller read (TableVersion.Next() keeps the old ETag). The version row is
-- bumped only if it still holds that version and the silo is not in the table yet; the row lock taken by that
-- update serialises concurrent writers, so exactly one of two racing changes wins. Answers whether the row was
-- inserted.
('InsertMembershipKey', $q$
WITH bumped AS (
    UPDATE orleans_membership_version
       SET version = version + 1, changed_at = now()
     WHERE cluster_id = @DeploymentId
       AND version = @Version
       AND NOT EXISTS (SELECT 1 FROM orleans_membership
                        WHERE cluster_id = @DeploymentId
                          AND address = @Address AND port = @Port AND generation = @Generation)
    RETURNING cluster_id
), inserted AS (
    INSERT INTO orleans_membership (cluster_id, address, port, generation, silo_name, host_name, status, proxy_port,
                                    suspect_times, start_time, i_am_alive_time)
    SELECT cluster_id, @Address, @Port, @Generation, @SiloName, @HostName, @Status, @ProxyPort,
           NULL, @StartTime, @IAmAliveTime
      FROM bumped
    ON CONFLICT DO NOTHING
    RETURNING 1
)
SELECT EXISTS (SELECT 1 FROM inserted)
$q$),

-- Same version rule as the insert; the silo's row must exist.
('UpdateMembershipKey', $q$
WITH bumped AS (
    UPDATE orleans_membership_version
       SET version = version + 1, changed_at = now()
     WHERE cluster_id = @DeploymentId
       AND version = @Version
       AND EXISTS (SELECT 1 FROM orleans_membership
                    WHERE cluster_id = @DeploymentId
                      AND address = @Address AND port = @Port AND generation = @Generation)
    RETURNING cluster_id
), updated AS (
    UPDATE orleans_membership m
       SET status = @Status, suspect_times = @SuspectTimes, i_am_alive_time = @IAmAliveTime
      FROM bumped
     WHERE m.cluster_id = bumped.cluster_id
       AND m.address = @Address AND m.port = @Port AND m.generation = @Generation
    RETURNING 1
)
SELECT EXISTS (SELECT 1 FROM updated)
$q$),

-- The liveness heartbeat is not a membership change: no version check, no version bump.
('UpdateIAmAlivetimeKey', $q$
UPDATE orleans_membership
   SET i_am_alive_time = @IAmAliveTime
 WHERE cluster_id = @DeploymentId
   AND address = @Address AND port = @Port AND generation = @Generation
$q$),

-- Removes the cluster entirely (its silo rows go with the version row).
('DeleteMembershipTableEntriesKey', $q$
DELETE FROM orleans_membership_version WHERE cluster_id = @DeploymentId
$q$),

-- Gateways clients may connect to: active silos that listen for clients.
('GatewaysQueryKey', $q$
SELECT address AS "Address", proxy_port AS "ProxyPort", generation AS "Generation"
  FROM orleans_membership
 WHERE cluster_id = @DeploymentId
   AND status = @Status
   AND proxy_port > 0
$q$),

-- Forgets silos that have been dead since before @IAmAliveTime.
('CleanupDefunctSiloEntriesKey', $q$
DELETE FROM orleans_membership
 WHERE cluster_id = @DeploymentId
   AND i_am_alive_time < @IAmAliveTime
   AND status = 6
$q$),

-- Grain state of one grain under one state name: at most one row; NULL payload when cleared.
('ReadFromStorageKey', $q$
SELECT payload AS "PayloadBinary", version AS "Version"
  FROM orleans_grain_state
 WHERE service_id = @ServiceId
   AND grain_type = @GrainTypeString
   AND grain_id_n0 = @GrainIdN0
   AND grain_id_n1 = @GrainIdN1
   AND grain_id_ext IS NOT DISTINCT FROM @GrainIdExtensionString
$q$),

-- A first write (no version held) inserts version 1 unless a row exists; later writes update only the row that
-- still has the version the writer read. Returns the new version, or no row at all on a conflict.
('WriteToStorageKey', $q$
WITH updated AS (
    UPDATE orleans_grain_state
       SET payload = @PayloadBinary, version = version + 1, modified_at = now(),
           grain_type_hash = @GrainTypeHash, grain_id_hash = @GrainIdHash
     WHERE @GrainStateVersion IS NOT NULL
       AND service_id = @ServiceId
       AND grain_type = @GrainTypeString
       AND grain_id_n0 = @GrainIdN0
       AND grain_id_n1 = @GrainIdN1
       AND grain_id_ext IS NOT DISTINCT FROM @GrainIdExtensionString
       AND version = @GrainStateVersion
    RETURNING version
), inserted AS (
    INSERT INTO orleans_grain_state (service_id, grain_type, grain_type_hash, grain_id_n0, grain_id_n1, grain_id_ext,
                                     grain_id_hash, payload, version)
    SELECT @ServiceId, @GrainTypeString, @GrainTypeHash, @GrainIdN0, @GrainIdN1, @GrainIdExtensionString,
           @GrainIdHash, @PayloadBinary, 1
     WHERE @GrainStateVersion IS NULL
    ON CONFLICT DO NOTHING
    RETURNING version
)
SELECT version AS "NewGrainStateVersion" FROM updated
UNION ALL
SELECT version FROM inserted
$q$),

-- Clear keeps the row (and its version history) with no payload. Same version rule as a write.
('ClearStorageKey', $q$
UPDATE orleans_grain_state
   SET payload = NULL, version = version + 1, modified_at = now()
 WHERE service_id = @ServiceId
   AND grain_type = @GrainTypeString
   AND grain_id_n0 = @GrainIdN0
   AND grain_id_n1 = @GrainIdN1
   AND grain_id_ext IS NOT DISTINCT FROM @GrainIdExtensionString
   AND version = @GrainStateVersion
RETURNING version AS "NewGrainStateVersion"
$q$),

-- Clear for providers configured with DeleteStateOnClear: removes the row. The provider expects the deleted
-- row's version plus one (anything but the version it held) as proof that the delete happened.
('DeleteStorageKey', $q$
DELETE FROM orleans_grain_state
 WHERE service_id = @ServiceId
   AND grain_type = @GrainTypeString
   AND grain_id_n0 = @GrainIdN0
   AND grain_id_n1 = @GrainIdN1
   AND grain_id_ext IS NOT DISTINCT FROM @GrainIdExtensionString
   AND version = @GrainStateVersion
RETURNING version + 1 AS "NewGrainStateVersion"
$q$),

('ReadReminderRowsKey', $q$
SELECT grain_id AS "GrainId", reminder_name AS "ReminderName", start_time AS "StartTime",
       period_ms AS "Period", version AS "Version"
  FROM orleans_reminder
 WHERE service_id = @ServiceId AND grain_id = @GrainId
$q$),

('ReadReminderRowKey', $q$
SELECT grain_id AS "GrainId", reminder_name AS "ReminderName", start_time AS "StartTime",
       period_ms AS "Period", version AS "Version"
  FROM orleans_reminder
 WHERE service_id = @ServiceId AND grain_id = @GrainId AND reminder_name = @ReminderName
$q$),

-- The ring range (@BeginHash, @EndHash] when it does not wrap (the provider compares the hashes as signed ints,
-- as they are stored).
('ReadRangeRows1Key', $q$
SELECT grain_id AS "GrainId", reminder_name AS "ReminderName", start_time AS "StartTime",
       period_ms AS "Period", version AS "Version"
  FROM orleans_reminder
 WHERE service_id = @ServiceId AND grain_hash > @BeginHash AND grain_hash <= @EndHash
$q$),

-- The ring range that wraps past the end: everything after @BeginHash plus everything up to @EndHash
-- (the whole ring when they are equal).
('ReadRangeRows2Key', $q$
SELECT grain_id AS "GrainId", reminder_name AS "ReminderName", start_time AS "StartTime",
       period_ms AS "Period", version AS "Version"
  FROM orleans_reminder
 WHERE service_id = @ServiceId AND (grain_hash > @BeginHash OR grain_hash <= @EndHash)
$q$),

-- Insert or replace; returns the reminder's new version (its ETag).
('UpsertReminderRowKey', $q$
INSERT INTO orleans_reminder (service_id, grain_id, reminder_name, grain_hash, start_time, period_ms, version)
VALUES (@ServiceId, @GrainId, @ReminderName, @GrainHash, @StartTime, @Period, 0)
ON CONFLICT (service_id, grain_id, reminder_name) DO UPDATE
   SET grain_hash = EXCLUDED.grain_hash,
       start_time = EXCLUDED.start_time,
       period_ms  = EXCLUDED.period_ms,
       version    = orleans_reminder.version + 1
RETURNING version AS "Version"
$q$),

-- Deletes only the version the caller holds; answers whether it did.
('DeleteReminderRowKey', $q$
WITH deleted AS (
    DELETE FROM orleans_reminder
     WHERE service_id = @ServiceId AND grain_id = @GrainId AND reminder_name = @ReminderName
       AND version = @Version
    RETURNING 1
)
SELECT EXISTS (SELECT 1 FROM deleted)
$q$),

('DeleteReminderRowsKey', $q$
DELETE FROM orleans_reminder WHERE service_id = @ServiceId
$q$);
