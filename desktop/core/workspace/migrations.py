"""The workspace schema, as an ordered list of migrations.

Each migration runs once, in order, inside one transaction with the version bump, so a workspace is
always at a version the code knows. Never edit a migration that has shipped: add a new one.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    sql: str


MIGRATIONS: list[Migration] = [
    Migration(
        1,
        "patients, observations (long form), conditions, encounters, imports",
        """
        CREATE TABLE patients (
            patient_id    VARCHAR PRIMARY KEY,
            name          VARCHAR,
            sex           VARCHAR,      -- 'F', 'M' or NULL when unknown
            birth_date    DATE,
            birth_date_estimated BOOLEAN DEFAULT false,  -- wide files give an age, not a birth date
            death_date    DATE,
            import_id     INTEGER
        );
        CREATE TABLE observations (
            patient_id    VARCHAR NOT NULL,
            observed_at   TIMESTAMP NOT NULL,   -- UTC
            code          VARCHAR NOT NULL,     -- LOINC where known
            value_raw     VARCHAR,              -- the value exactly as the file gave it
            unit_raw      VARCHAR,              -- the unit exactly as the file gave it
            value         DOUBLE,               -- in the canonical unit of the measurement (NULL for text)
            unit          VARCHAR,              -- the canonical unit
            encounter_id  VARCHAR,
            import_id     INTEGER NOT NULL
        );
        CREATE TABLE observation_codes (
            code          VARCHAR PRIMARY KEY,
            description   VARCHAR,
            category      VARCHAR
        );
        CREATE TABLE conditions (
            patient_id    VARCHAR NOT NULL,
            onset         DATE,
            resolved      DATE,
            code          VARCHAR,
            code_system   VARCHAR,
            description   VARCHAR NOT NULL,
            encounter_id  VARCHAR,
            import_id     INTEGER NOT NULL
        );
        CREATE TABLE encounters (
            encounter_id  VARCHAR PRIMARY KEY,
            patient_id    VARCHAR NOT NULL,
            started_at    TIMESTAMP,
            ended_at      TIMESTAMP,
            encounter_class VARCHAR,
            code          VARCHAR,
            description   VARCHAR,
            reason        VARCHAR,
            import_id     INTEGER NOT NULL
        );
        CREATE SEQUENCE import_id_seq START 1;
        CREATE TABLE imports (
            import_id     INTEGER PRIMARY KEY DEFAULT nextval('import_id_seq'),
            file_name     VARCHAR NOT NULL,
            sha256        VARCHAR NOT NULL,
            format        VARCHAR NOT NULL,
            rows_accepted BIGINT NOT NULL,
            rows_rejected BIGINT NOT NULL,
            imported_at   TIMESTAMP NOT NULL
        );
        CREATE TABLE import_rejections (
            import_id     INTEGER NOT NULL,
            line          BIGINT,
            reason        VARCHAR NOT NULL
        );
        CREATE TABLE column_mappings (
            header_signature VARCHAR PRIMARY KEY,  -- the file's header, normalised
            name          VARCHAR NOT NULL,
            mapping_json  VARCHAR NOT NULL,
            saved_at      TIMESTAMP NOT NULL
        );
        """,
    ),
    Migration(
        2,
        "chat: conversations and messages, each message saved as it happens",
        """
        CREATE SEQUENCE conversation_id_seq START 1;
        CREATE TABLE conversations (
            conversation_id INTEGER PRIMARY KEY DEFAULT nextval('conversation_id_seq'),
            patient_id    VARCHAR NOT NULL,
            title         VARCHAR NOT NULL,
            created_at    TIMESTAMP NOT NULL,
            updated_at    TIMESTAMP NOT NULL,
            deleted_at    TIMESTAMP             -- hidden, not erased
        );
        CREATE SEQUENCE message_id_seq START 1;
        CREATE TABLE messages (
            message_id    INTEGER PRIMARY KEY DEFAULT nextval('message_id_seq'),
            conversation_id INTEGER NOT NULL,
            position      INTEGER NOT NULL,     -- order within the conversation, superseded rows included
            role          VARCHAR NOT NULL,     -- 'user' or 'assistant'
            content       VARCHAR NOT NULL,
            status        VARCHAR NOT NULL,     -- complete, truncated, generating, stopped, interrupted, failed
            created_at    TIMESTAMP NOT NULL,
            updated_at    TIMESTAMP NOT NULL,
            superseded_at TIMESTAMP,            -- set by regenerate / edit-and-resend; kept for the record
            model         VARCHAR,              -- GGUF file name that wrote an assistant message
            context_summary VARCHAR,            -- the patient summary the model was given
            prompt_tokens INTEGER,
            completion_tokens INTEGER,
            dropped_messages INTEGER,           -- earlier turns left out to fit the context
            tokens_per_s  DOUBLE,
            ttft_s        DOUBLE,
            error         VARCHAR
        );
        """,
    ),
    Migration(
        3,
        "per-patient clinical settings with who and when (SpO2 scale 2); SpO2 stored under 59408-5",
        """
        CREATE TABLE patient_settings_log (
            patient_id    VARCHAR NOT NULL,
            setting       VARCHAR NOT NULL,     -- e.g. 'spo2_scale2'
            value         VARCHAR NOT NULL,     -- 'on' / 'off'
            set_by        VARCHAR NOT NULL,     -- the OS user
            set_at        TIMESTAMP NOT NULL,   -- UTC; the newest row per (patient, setting) is in force
            reason        VARCHAR
        );
        -- The catalog's SpO2 code is now 59408-5 (pulse oximetry, what NEWS2 scores); 2708-6 and 2713-6 are
        -- accepted as it. Haematocrit 20570-8 is now read as 4544-3.
        INSERT OR IGNORE INTO observation_codes
            SELECT '59408-5', any_value(description), any_value(category) FROM observation_codes
            WHERE code IN ('2708-6', '2713-6') HAVING count(*) > 0;
        UPDATE observations SET code = '59408-5' WHERE code IN ('2708-6', '2713-6');
        UPDATE observations SET code = '4544-3' WHERE code = '20570-8';
        """,
    ),
    Migration(
        4,
        "Synthea medications, allergies, procedures and immunizations",
        """
        CREATE TABLE medications (
            patient_id    VARCHAR NOT NULL,
            started_at    TIMESTAMP NOT NULL,   -- UTC
            stopped_at    TIMESTAMP,            -- NULL: not stopped (still taken, as of the export)
            code          VARCHAR,              -- RxNorm
            description   VARCHAR NOT NULL,
            dispenses     INTEGER,
            reason_code   VARCHAR,
            reason        VARCHAR,              -- what it was given for (REASONDESCRIPTION)
            encounter_id  VARCHAR,
            import_id     INTEGER NOT NULL
        );
        CREATE TABLE allergies (
            patient_id    VARCHAR NOT NULL,
            recorded_on   DATE NOT NULL,        -- START
            resolved_on   DATE,                 -- STOP; NULL: still an allergy
            code          VARCHAR,
            code_system   VARCHAR,
            description   VARCHAR NOT NULL,     -- the substance
            allergy_type  VARCHAR,              -- allergy / intolerance (newer exports only)
            category      VARCHAR,              -- food, medication, environment (newer exports only)
            reaction1     VARCHAR,
            severity1     VARCHAR,              -- MILD, MODERATE, SEVERE as the file gives it
            reaction2     VARCHAR,
            severity2     VARCHAR,
            encounter_id  VARCHAR,
            import_id     INTEGER NOT NULL
        );
        CREATE TABLE procedures (
            patient_id    VARCHAR NOT NULL,
            started_at    TIMESTAMP NOT NULL,   -- START (older exports: DATE)
            stopped_at    TIMESTAMP,
            code          VARCHAR,
            code_system   VARCHAR,
            description   VARCHAR NOT NULL,
            reason        VARCHAR,
            encounter_id  VARCHAR,
            import_id     INTEGER NOT NULL
        );
        CREATE TABLE immunizations (
            patient_id    VARCHAR NOT NULL,
            given_at      TIMESTAMP NOT NULL,
            code          VARCHAR,              -- CVX
            description   VARCHAR NOT NULL,
            encounter_id  VARCHAR,
            import_id     INTEGER NOT NULL
        );
        """,
    ),
    Migration(
        5,
        "audit log, hash-chained, with its head",
        """
        CREATE TABLE audit_log (
            sequence      INTEGER PRIMARY KEY,
            recorded_at   TIMESTAMP NOT NULL,   -- UTC
            os_user       VARCHAR NOT NULL,
            action        VARCHAR NOT NULL,
            patient_id    VARCHAR,
            detail        VARCHAR NOT NULL,     -- file or setting named; never names, values or questions
            previous_hash VARCHAR NOT NULL,
            entry_hash    VARCHAR NOT NULL
        );
        CREATE TABLE audit_head (entries INTEGER NOT NULL, last_hash VARCHAR NOT NULL);
        """,
    ),
    Migration(
        6,
        "chat: the verifier's verdict on each model-written answer",
        """
        ALTER TABLE messages ADD COLUMN verdict VARCHAR;  -- JSON: status, counts, every checked span
        """,
    ),
]

SCHEMA_VERSION = MIGRATIONS[-1].version
