CREATE TABLE IF NOT EXISTS raw_screenings (
    source_file VARCHAR NOT NULL,
    source_row BIGINT NOT NULL,
    source_sha256 VARCHAR NOT NULL,
    era VARCHAR NOT NULL,
    mission_code VARCHAR NOT NULL,
    received_date DATE NOT NULL,
    case_ref VARCHAR,
    submission_uuid VARCHAR,
    full_name VARCHAR,
    given_name VARCHAR,
    family_name VARCHAR,
    date_of_birth VARCHAR,
    age_reported VARCHAR,
    sex VARCHAR,
    citizenship VARCHAR,
    document_number VARCHAR,
    phone VARCHAR,
    address VARCHAR,
    narrative VARCHAR,
    interviewer_name VARCHAR,
    registration_date VARCHAR,
    identification_date VARCHAR,
    identifying_agency VARCHAR,
    victim_status VARCHAR,
    is_eligible_for_assistance VARCHAR,
    exploitation_types VARCHAR,
    labour_sectors VARCHAR,
    means_of_control VARCHAR,
    recruiter_relationship VARCHAR,
    recruitment_country VARCHAR,
    transit_countries VARCHAR,
    exploitation_country VARCHAR,
    recruitment_date VARCHAR,
    exploitation_start_date VARCHAR,
    exploitation_end_date VARCHAR,
    has_research_consent VARCHAR
);
COMMENT ON TABLE raw_screenings IS 'Screening interviews exactly as extracted from mission exports, mapped to canonical field names, with provenance. Grain: one row per record of a screening form in an export file, values as received (text).';
COMMENT ON COLUMN raw_screenings.source_file IS 'Path of the export file relative to the exports folder (mission/received-date/file).';
COMMENT ON COLUMN raw_screenings.source_row IS 'Row of the record in its export file: 1 is the first data row (line, sheet row below the header, or JSON line).';
COMMENT ON COLUMN raw_screenings.source_sha256 IS 'SHA-256 of the export file''s bytes; identifies the content whatever the file name.';
COMMENT ON COLUMN raw_screenings.era IS 'Export era the file was recognised as (ctm_legacy, mimosa_xlsx, case_api_jsonl, ctdc_global).';
COMMENT ON COLUMN raw_screenings.mission_code IS 'Code of the mission that sent the export (the first folder under the exports folder), e.g. MD-CHI.';
COMMENT ON COLUMN raw_screenings.received_date IS 'Date the export was received (the second folder under the exports folder).';
COMMENT ON COLUMN raw_screenings.case_ref IS 'The mission''s own case number as written on the forms; links to paper files, so it never leaves the restricted zone.';
COMMENT ON COLUMN raw_screenings.submission_uuid IS 'Stable submission identifier of the case API (case_api_jsonl era only).';
COMMENT ON COLUMN raw_screenings.full_name IS 'Name as one cell (legacy module): family and given names in any order.';
COMMENT ON COLUMN raw_screenings.given_name IS 'Given name(s).';
COMMENT ON COLUMN raw_screenings.family_name IS 'Family name(s).';
COMMENT ON COLUMN raw_screenings.date_of_birth IS 'Date of birth as declared; generalised to birth_year and age before leaving the restricted zone.';
COMMENT ON COLUMN raw_screenings.age_reported IS 'Age declared at interview when no date of birth was given.';
COMMENT ON COLUMN raw_screenings.sex IS 'Sex as recorded on the screening form.';
COMMENT ON COLUMN raw_screenings.citizenship IS 'Country of citizenship, ISO 3166-1 alpha-2.';
COMMENT ON COLUMN raw_screenings.document_number IS 'Passport or identity document number.';
COMMENT ON COLUMN raw_screenings.phone IS 'Contact phone number.';
COMMENT ON COLUMN raw_screenings.address IS 'Current address or shelter address.';
COMMENT ON COLUMN raw_screenings.narrative IS 'Free-text account of the case written by the interviewer.';
COMMENT ON COLUMN raw_screenings.interviewer_name IS 'Name of the staff member who conducted the interview.';
COMMENT ON COLUMN raw_screenings.registration_date IS 'Date the case was registered by the mission.';
COMMENT ON COLUMN raw_screenings.identification_date IS 'Date the person was identified as a (presumed) victim.';
COMMENT ON COLUMN raw_screenings.identifying_agency IS 'Who identified the person and referred them to the mission.';
COMMENT ON COLUMN raw_screenings.victim_status IS 'Outcome of the screening: victim, presumed victim, not a victim, undetermined.';
COMMENT ON COLUMN raw_screenings.is_eligible_for_assistance IS 'Whether the screening found the person eligible for assistance.';
COMMENT ON COLUMN raw_screenings.exploitation_types IS 'Types of exploitation suffered (HTCDS), several possible.';
COMMENT ON COLUMN raw_screenings.labour_sectors IS 'Sectors of forced labour (HTCDS), several possible.';
COMMENT ON COLUMN raw_screenings.means_of_control IS 'Means the trafficker used to control the person (HTCDS), several possible.';
COMMENT ON COLUMN raw_screenings.recruiter_relationship IS 'Relationship of the recruiter to the person.';
COMMENT ON COLUMN raw_screenings.recruitment_country IS 'Country where the person was recruited, ISO 3166-1 alpha-2.';
COMMENT ON COLUMN raw_screenings.transit_countries IS 'Countries crossed between recruitment and exploitation, in order, ISO 3166-1 alpha-2.';
COMMENT ON COLUMN raw_screenings.exploitation_country IS 'Country where the person was exploited, ISO 3166-1 alpha-2.';
COMMENT ON COLUMN raw_screenings.recruitment_date IS 'Date of recruitment.';
COMMENT ON COLUMN raw_screenings.exploitation_start_date IS 'Date the exploitation began.';
COMMENT ON COLUMN raw_screenings.exploitation_end_date IS 'Date the exploitation ended (exit or identification).';
COMMENT ON COLUMN raw_screenings.has_research_consent IS 'Whether the person consented to the use of their anonymised data for research.';

CREATE TABLE IF NOT EXISTS raw_assistance (
    source_file VARCHAR NOT NULL,
    source_row BIGINT NOT NULL,
    source_sha256 VARCHAR NOT NULL,
    era VARCHAR NOT NULL,
    mission_code VARCHAR NOT NULL,
    received_date DATE NOT NULL,
    case_ref VARCHAR,
    assistance_type VARCHAR,
    assistance_start_date VARCHAR,
    assistance_end_date VARCHAR,
    provider_name VARCHAR,
    funding_source VARCHAR,
    reintegration_outcome VARCHAR,
    return_country VARCHAR
);
COMMENT ON TABLE raw_assistance IS 'Assistance episodes exactly as extracted from mission exports, with provenance. Grain: one row per record of an assistance form in an export file, values as received (text).';
COMMENT ON COLUMN raw_assistance.source_file IS 'Path of the export file relative to the exports folder (mission/received-date/file).';
COMMENT ON COLUMN raw_assistance.source_row IS 'Row of the record in its export file: 1 is the first data row (line, sheet row below the header, or JSON line).';
COMMENT ON COLUMN raw_assistance.source_sha256 IS 'SHA-256 of the export file''s bytes; identifies the content whatever the file name.';
COMMENT ON COLUMN raw_assistance.era IS 'Export era the file was recognised as (ctm_legacy, mimosa_xlsx, case_api_jsonl, ctdc_global).';
COMMENT ON COLUMN raw_assistance.mission_code IS 'Code of the mission that sent the export (the first folder under the exports folder), e.g. MD-CHI.';
COMMENT ON COLUMN raw_assistance.received_date IS 'Date the export was received (the second folder under the exports folder).';
COMMENT ON COLUMN raw_assistance.case_ref IS 'The mission''s own case number as written on the forms; links to paper files, so it never leaves the restricted zone.';
COMMENT ON COLUMN raw_assistance.assistance_type IS 'Kind of assistance delivered in the episode.';
COMMENT ON COLUMN raw_assistance.assistance_start_date IS 'First day of the assistance episode.';
COMMENT ON COLUMN raw_assistance.assistance_end_date IS 'Last day of the assistance episode (empty while ongoing).';
COMMENT ON COLUMN raw_assistance.provider_name IS 'Name of the organisation or staff member that delivered the assistance (can locate a shelter).';
COMMENT ON COLUMN raw_assistance.funding_source IS 'Who funded the episode; gaf is the Global Assistance Fund (from August 2000).';
COMMENT ON COLUMN raw_assistance.reintegration_outcome IS 'Outcome of a reintegration episode.';
COMMENT ON COLUMN raw_assistance.return_country IS 'Destination of a voluntary return, ISO 3166-1 alpha-2.';

CREATE TABLE IF NOT EXISTS ingestion_ledger (
    source_file VARCHAR NOT NULL,
    mission_code VARCHAR,
    received_date DATE,
    era VARCHAR,
    source_sha256 VARCHAR NOT NULL,
    file_status VARCHAR NOT NULL,
    rows_read BIGINT NOT NULL,
    rows_staged BIGINT NOT NULL,
    rows_quarantined BIGINT NOT NULL,
    rows_duplicate BIGINT NOT NULL,
    error_message VARCHAR,
    ingested_at TIMESTAMP NOT NULL,
    PRIMARY KEY (source_file)
);
COMMENT ON TABLE ingestion_ledger IS 'What happened to every export file, with the row accounting rows_read = rows_staged + rows_quarantined + rows_duplicate. Grain: one row per export file seen in the exports folder.';
COMMENT ON COLUMN ingestion_ledger.source_file IS 'Path of the export file relative to the exports folder (mission/received-date/file).';
COMMENT ON COLUMN ingestion_ledger.mission_code IS 'Code of the mission that sent the export (the first folder under the exports folder), e.g. MD-CHI.';
COMMENT ON COLUMN ingestion_ledger.received_date IS 'Date the export was received (the second folder under the exports folder).';
COMMENT ON COLUMN ingestion_ledger.era IS 'Export era the file was recognised as (ctm_legacy, mimosa_xlsx, case_api_jsonl, ctdc_global).';
COMMENT ON COLUMN ingestion_ledger.source_sha256 IS 'SHA-256 of the export file''s bytes; identifies the content whatever the file name.';
COMMENT ON COLUMN ingestion_ledger.file_status IS 'What happened to the file: loaded, refused (with error_message) or already_seen (same content ingested before).';
COMMENT ON COLUMN ingestion_ledger.rows_read IS 'Data rows read from the file (records of every form it holds).';
COMMENT ON COLUMN ingestion_ledger.rows_staged IS 'Rows that passed validation and went on to staging.';
COMMENT ON COLUMN ingestion_ledger.rows_quarantined IS 'Rows set aside in quarantine with a reason.';
COMMENT ON COLUMN ingestion_ledger.rows_duplicate IS 'Rows that repeat an earlier row of the same file exactly and were counted once.';
COMMENT ON COLUMN ingestion_ledger.error_message IS 'For a refused file: what was wrong, in words a mission officer understands (never a value from the file).';
COMMENT ON COLUMN ingestion_ledger.ingested_at IS 'When the pipeline processed the file (UTC).';

CREATE TABLE IF NOT EXISTS quarantine (
    source_file VARCHAR NOT NULL,
    source_row BIGINT NOT NULL,
    form VARCHAR NOT NULL,
    mission_code VARCHAR NOT NULL,
    era VARCHAR NOT NULL,
    field_name VARCHAR,
    rule VARCHAR NOT NULL,
    reason VARCHAR NOT NULL,
    raw_value VARCHAR
);
COMMENT ON TABLE quarantine IS 'Records set aside by validation, with the failed rule and a readable reason; raw_value keeps the offending value for the custodian. Grain: one row per failed rule of a record (a record may fail several rules).';
COMMENT ON COLUMN quarantine.source_file IS 'Path of the export file relative to the exports folder (mission/received-date/file).';
COMMENT ON COLUMN quarantine.source_row IS 'Row of the record in its export file: 1 is the first data row (line, sheet row below the header, or JSON line).';
COMMENT ON COLUMN quarantine.form IS 'Interview form the record comes from (screening or assistance).';
COMMENT ON COLUMN quarantine.mission_code IS 'Code of the mission that sent the export (the first folder under the exports folder), e.g. MD-CHI.';
COMMENT ON COLUMN quarantine.era IS 'Export era the file was recognised as (ctm_legacy, mimosa_xlsx, case_api_jsonl, ctdc_global).';
COMMENT ON COLUMN quarantine.field_name IS 'Canonical field the problem is in (empty when the problem is the whole row).';
COMMENT ON COLUMN quarantine.rule IS 'Identifier of the validation rule that failed, e.g. code_known, identification_after_birth.';
COMMENT ON COLUMN quarantine.reason IS 'Readable explanation of the failure, naming fields and rules but never values.';
COMMENT ON COLUMN quarantine.raw_value IS 'The offending value as received (restricted zone only, for the data custodian).';

CREATE TABLE IF NOT EXISTS typed_screenings (
    source_file VARCHAR NOT NULL,
    source_row BIGINT NOT NULL,
    source_sha256 VARCHAR NOT NULL,
    era VARCHAR NOT NULL,
    mission_code VARCHAR NOT NULL,
    received_date DATE NOT NULL,
    case_ref VARCHAR NOT NULL,
    submission_uuid VARCHAR,
    full_name VARCHAR,
    given_name VARCHAR,
    family_name VARCHAR,
    date_of_birth DATE,
    age_reported BIGINT,
    sex VARCHAR,
    citizenship VARCHAR,
    document_number VARCHAR,
    phone VARCHAR,
    address VARCHAR,
    narrative VARCHAR,
    interviewer_name VARCHAR,
    registration_date DATE NOT NULL,
    identification_date DATE,
    identifying_agency VARCHAR,
    victim_status VARCHAR,
    is_eligible_for_assistance BOOLEAN,
    exploitation_types VARCHAR[],
    labour_sectors VARCHAR[],
    means_of_control VARCHAR[],
    recruiter_relationship VARCHAR,
    recruitment_country VARCHAR,
    transit_countries VARCHAR[],
    exploitation_country VARCHAR,
    recruitment_date DATE,
    exploitation_start_date DATE,
    exploitation_end_date DATE,
    has_research_consent BOOLEAN,
    PRIMARY KEY (source_file, source_row)
);
COMMENT ON TABLE typed_screenings IS 'Screening records after parsing and validation, before pseudonymisation (restricted zone, in memory only). Grain: one row per valid screening record of an export, typed, identifiers still present.';
COMMENT ON COLUMN typed_screenings.source_file IS 'Path of the export file relative to the exports folder (mission/received-date/file).';
COMMENT ON COLUMN typed_screenings.source_row IS 'Row of the record in its export file: 1 is the first data row (line, sheet row below the header, or JSON line).';
COMMENT ON COLUMN typed_screenings.source_sha256 IS 'SHA-256 of the export file''s bytes; identifies the content whatever the file name.';
COMMENT ON COLUMN typed_screenings.era IS 'Export era the file was recognised as (ctm_legacy, mimosa_xlsx, case_api_jsonl, ctdc_global).';
COMMENT ON COLUMN typed_screenings.mission_code IS 'Code of the mission that sent the export (the first folder under the exports folder), e.g. MD-CHI.';
COMMENT ON COLUMN typed_screenings.received_date IS 'Date the export was received (the second folder under the exports folder).';
COMMENT ON COLUMN typed_screenings.case_ref IS 'The mission''s own case number as written on the forms; links to paper files, so it never leaves the restricted zone.';
COMMENT ON COLUMN typed_screenings.submission_uuid IS 'Stable submission identifier of the case API (case_api_jsonl era only).';
COMMENT ON COLUMN typed_screenings.full_name IS 'Name as one cell (legacy module): family and given names in any order.';
COMMENT ON COLUMN typed_screenings.given_name IS 'Given name(s).';
COMMENT ON COLUMN typed_screenings.family_name IS 'Family name(s).';
COMMENT ON COLUMN typed_screenings.date_of_birth IS 'Date of birth as declared; generalised to birth_year and age before leaving the restricted zone.';
COMMENT ON COLUMN typed_screenings.age_reported IS 'Age declared at interview when no date of birth was given.';
COMMENT ON COLUMN typed_screenings.sex IS 'Sex as recorded on the screening form.';
COMMENT ON COLUMN typed_screenings.citizenship IS 'Country of citizenship, ISO 3166-1 alpha-2.';
COMMENT ON COLUMN typed_screenings.document_number IS 'Passport or identity document number.';
COMMENT ON COLUMN typed_screenings.phone IS 'Contact phone number.';
COMMENT ON COLUMN typed_screenings.address IS 'Current address or shelter address.';
COMMENT ON COLUMN typed_screenings.narrative IS 'Free-text account of the case written by the interviewer.';
COMMENT ON COLUMN typed_screenings.interviewer_name IS 'Name of the staff member who conducted the interview.';
COMMENT ON COLUMN typed_screenings.registration_date IS 'Date the case was registered by the mission.';
COMMENT ON COLUMN typed_screenings.identification_date IS 'Date the person was identified as a (presumed) victim.';
COMMENT ON COLUMN typed_screenings.identifying_agency IS 'Who identified the person and referred them to the mission.';
COMMENT ON COLUMN typed_screenings.victim_status IS 'Outcome of the screening: victim, presumed victim, not a victim, undetermined.';
COMMENT ON COLUMN typed_screenings.is_eligible_for_assistance IS 'Whether the screening found the person eligible for assistance.';
COMMENT ON COLUMN typed_screenings.exploitation_types IS 'Types of exploitation suffered (HTCDS), several possible.';
COMMENT ON COLUMN typed_screenings.labour_sectors IS 'Sectors of forced labour (HTCDS), several possible.';
COMMENT ON COLUMN typed_screenings.means_of_control IS 'Means the trafficker used to control the person (HTCDS), several possible.';
COMMENT ON COLUMN typed_screenings.recruiter_relationship IS 'Relationship of the recruiter to the person.';
COMMENT ON COLUMN typed_screenings.recruitment_country IS 'Country where the person was recruited, ISO 3166-1 alpha-2.';
COMMENT ON COLUMN typed_screenings.transit_countries IS 'Countries crossed between recruitment and exploitation, in order, ISO 3166-1 alpha-2.';
COMMENT ON COLUMN typed_screenings.exploitation_country IS 'Country where the person was exploited, ISO 3166-1 alpha-2.';
COMMENT ON COLUMN typed_screenings.recruitment_date IS 'Date of recruitment.';
COMMENT ON COLUMN typed_screenings.exploitation_start_date IS 'Date the exploitation began.';
COMMENT ON COLUMN typed_screenings.exploitation_end_date IS 'Date the exploitation ended (exit or identification).';
COMMENT ON COLUMN typed_screenings.has_research_consent IS 'Whether the person consented to the use of their anonymised data for research.';

CREATE TABLE IF NOT EXISTS typed_assistance (
    source_file VARCHAR NOT NULL,
    source_row BIGINT NOT NULL,
    source_sha256 VARCHAR NOT NULL,
    era VARCHAR NOT NULL,
    mission_code VARCHAR NOT NULL,
    received_date DATE NOT NULL,
    case_ref VARCHAR NOT NULL,
    assistance_type VARCHAR NOT NULL,
    assistance_start_date DATE,
    assistance_end_date DATE,
    provider_name VARCHAR,
    funding_source VARCHAR,
    reintegration_outcome VARCHAR,
    return_country VARCHAR,
    PRIMARY KEY (source_file, source_row)
);
COMMENT ON TABLE typed_assistance IS 'Assistance records after parsing and validation, before pseudonymisation (restricted zone, in memory only). Grain: one row per valid assistance record of an export, typed, identifiers still present.';
COMMENT ON COLUMN typed_assistance.source_file IS 'Path of the export file relative to the exports folder (mission/received-date/file).';
COMMENT ON COLUMN typed_assistance.source_row IS 'Row of the record in its export file: 1 is the first data row (line, sheet row below the header, or JSON line).';
COMMENT ON COLUMN typed_assistance.source_sha256 IS 'SHA-256 of the export file''s bytes; identifies the content whatever the file name.';
COMMENT ON COLUMN typed_assistance.era IS 'Export era the file was recognised as (ctm_legacy, mimosa_xlsx, case_api_jsonl, ctdc_global).';
COMMENT ON COLUMN typed_assistance.mission_code IS 'Code of the mission that sent the export (the first folder under the exports folder), e.g. MD-CHI.';
COMMENT ON COLUMN typed_assistance.received_date IS 'Date the export was received (the second folder under the exports folder).';
COMMENT ON COLUMN typed_assistance.case_ref IS 'The mission''s own case number as written on the forms; links to paper files, so it never leaves the restricted zone.';
COMMENT ON COLUMN typed_assistance.assistance_type IS 'Kind of assistance delivered in the episode.';
COMMENT ON COLUMN typed_assistance.assistance_start_date IS 'First day of the assistance episode.';
COMMENT ON COLUMN typed_assistance.assistance_end_date IS 'Last day of the assistance episode (empty while ongoing).';
COMMENT ON COLUMN typed_assistance.provider_name IS 'Name of the organisation or staff member that delivered the assistance (can locate a shelter).';
COMMENT ON COLUMN typed_assistance.funding_source IS 'Who funded the episode; gaf is the Global Assistance Fund (from August 2000).';
COMMENT ON COLUMN typed_assistance.reintegration_outcome IS 'Outcome of a reintegration episode.';
COMMENT ON COLUMN typed_assistance.return_country IS 'Destination of a voluntary return, ISO 3166-1 alpha-2.';

CREATE TABLE IF NOT EXISTS stg_screenings (
    case_token VARCHAR NOT NULL,
    person_token VARCHAR,
    key_version VARCHAR NOT NULL,
    mission_code VARCHAR NOT NULL,
    registration_date DATE NOT NULL,
    registration_year BIGINT NOT NULL,
    identification_date DATE,
    identification_year BIGINT,
    birth_year BIGINT,
    age_at_identification BIGINT,
    age_band VARCHAR,
    sex VARCHAR,
    citizenship VARCHAR,
    identifying_agency VARCHAR,
    victim_status VARCHAR,
    is_eligible_for_assistance BOOLEAN,
    exploitation_types VARCHAR[],
    labour_sectors VARCHAR[],
    means_of_control VARCHAR[],
    recruiter_relationship VARCHAR,
    recruitment_country VARCHAR,
    transit_countries VARCHAR[],
    exploitation_country VARCHAR,
    recruitment_date DATE,
    exploitation_start_date DATE,
    exploitation_end_date DATE,
    exploitation_days BIGINT,
    has_research_consent BOOLEAN,
    source_file VARCHAR NOT NULL,
    source_row BIGINT NOT NULL,
    source_sha256 VARCHAR NOT NULL,
    era VARCHAR NOT NULL,
    received_date DATE NOT NULL
);
COMMENT ON TABLE stg_screenings IS 'Screening interviews parsed, normalised to code lists, validated and pseudonymised. Grain: one row per valid screening record of an export (pseudonymous, typed).';
COMMENT ON COLUMN stg_screenings.case_token IS 'Keyed pseudonym (HMAC-SHA256) of the case: mission code and case number. Stable across exports and eras.';
COMMENT ON COLUMN stg_screenings.person_token IS 'Keyed pseudonym of the person (normalised name and date of birth or birth year), linked across missions.';
COMMENT ON COLUMN stg_screenings.key_version IS 'Version of the pseudonymisation key that produced the tokens of this row.';
COMMENT ON COLUMN stg_screenings.mission_code IS 'Code of the mission that sent the export (the first folder under the exports folder), e.g. MD-CHI.';
COMMENT ON COLUMN stg_screenings.registration_date IS 'Date the case was registered by the mission.';
COMMENT ON COLUMN stg_screenings.registration_year IS 'Year of the registration date (cases before 1999 are out of scope of the facts).';
COMMENT ON COLUMN stg_screenings.identification_date IS 'Date the person was identified as a (presumed) victim.';
COMMENT ON COLUMN stg_screenings.identification_year IS 'Year of the identification date.';
COMMENT ON COLUMN stg_screenings.birth_year IS 'Year of birth (from the date of birth, or estimated from the reported age).';
COMMENT ON COLUMN stg_screenings.age_at_identification IS 'Age in whole years on the identification date.';
COMMENT ON COLUMN stg_screenings.age_band IS 'CTDC age band of the age at identification (0-8, 9-17, 18-20, 21-23, 24-26, 27-29, 30-38, 39-47, 48+).';
COMMENT ON COLUMN stg_screenings.sex IS 'Sex as recorded on the screening form.';
COMMENT ON COLUMN stg_screenings.citizenship IS 'Country of citizenship, ISO 3166-1 alpha-2.';
COMMENT ON COLUMN stg_screenings.identifying_agency IS 'Who identified the person and referred them to the mission.';
COMMENT ON COLUMN stg_screenings.victim_status IS 'Outcome of the screening: victim, presumed victim, not a victim, undetermined.';
COMMENT ON COLUMN stg_screenings.is_eligible_for_assistance IS 'Whether the screening found the person eligible for assistance.';
COMMENT ON COLUMN stg_screenings.exploitation_types IS 'Types of exploitation suffered (HTCDS), several possible.';
COMMENT ON COLUMN stg_screenings.labour_sectors IS 'Sectors of forced labour (HTCDS), several possible.';
COMMENT ON COLUMN stg_screenings.means_of_control IS 'Means the trafficker used to control the person (HTCDS), several possible.';
COMMENT ON COLUMN stg_screenings.recruiter_relationship IS 'Relationship of the recruiter to the person.';
COMMENT ON COLUMN stg_screenings.recruitment_country IS 'Country where the person was recruited, ISO 3166-1 alpha-2.';
COMMENT ON COLUMN stg_screenings.transit_countries IS 'Countries crossed between recruitment and exploitation, in order, ISO 3166-1 alpha-2.';
COMMENT ON COLUMN stg_screenings.exploitation_country IS 'Country where the person was exploited, ISO 3166-1 alpha-2.';
COMMENT ON COLUMN stg_screenings.recruitment_date IS 'Date of recruitment.';
COMMENT ON COLUMN stg_screenings.exploitation_start_date IS 'Date the exploitation began.';
COMMENT ON COLUMN stg_screenings.exploitation_end_date IS 'Date the exploitation ended (exit or identification).';
COMMENT ON COLUMN stg_screenings.exploitation_days IS 'Duration of exploitation in days (end minus start).';
COMMENT ON COLUMN stg_screenings.has_research_consent IS 'Whether the person consented to the use of their anonymised data for research.';
COMMENT ON COLUMN stg_screenings.source_file IS 'Path of the export file relative to the exports folder (mission/received-date/file).';
COMMENT ON COLUMN stg_screenings.source_row IS 'Row of the record in its export file: 1 is the first data row (line, sheet row below the header, or JSON line).';
COMMENT ON COLUMN stg_screenings.source_sha256 IS 'SHA-256 of the export file''s bytes; identifies the content whatever the file name.';
COMMENT ON COLUMN stg_screenings.era IS 'Export era the file was recognised as (ctm_legacy, mimosa_xlsx, case_api_jsonl, ctdc_global).';
COMMENT ON COLUMN stg_screenings.received_date IS 'Date the export was received (the second folder under the exports folder).';

CREATE TABLE IF NOT EXISTS stg_assistance (
    case_token VARCHAR NOT NULL,
    key_version VARCHAR NOT NULL,
    mission_code VARCHAR NOT NULL,
    assistance_type VARCHAR NOT NULL,
    assistance_start_date DATE,
    assistance_end_date DATE,
    funding_source VARCHAR,
    reintegration_outcome VARCHAR,
    return_country VARCHAR,
    source_file VARCHAR NOT NULL,
    source_row BIGINT NOT NULL,
    source_sha256 VARCHAR NOT NULL,
    era VARCHAR NOT NULL,
    received_date DATE NOT NULL
);
COMMENT ON TABLE stg_assistance IS 'Assistance episodes parsed, normalised to code lists, validated and pseudonymised. Grain: one row per valid assistance episode of an export (pseudonymous, typed).';
COMMENT ON COLUMN stg_assistance.case_token IS 'Keyed pseudonym (HMAC-SHA256) of the case: mission code and case number. Stable across exports and eras.';
COMMENT ON COLUMN stg_assistance.key_version IS 'Version of the pseudonymisation key that produced the tokens of this row.';
COMMENT ON COLUMN stg_assistance.mission_code IS 'Code of the mission that sent the export (the first folder under the exports folder), e.g. MD-CHI.';
COMMENT ON COLUMN stg_assistance.assistance_type IS 'Kind of assistance delivered in the episode.';
COMMENT ON COLUMN stg_assistance.assistance_start_date IS 'First day of the assistance episode.';
COMMENT ON COLUMN stg_assistance.assistance_end_date IS 'Last day of the assistance episode (empty while ongoing).';
COMMENT ON COLUMN stg_assistance.funding_source IS 'Who funded the episode; gaf is the Global Assistance Fund (from August 2000).';
COMMENT ON COLUMN stg_assistance.reintegration_outcome IS 'Outcome of a reintegration episode.';
COMMENT ON COLUMN stg_assistance.return_country IS 'Destination of a voluntary return, ISO 3166-1 alpha-2.';
COMMENT ON COLUMN stg_assistance.source_file IS 'Path of the export file relative to the exports folder (mission/received-date/file).';
COMMENT ON COLUMN stg_assistance.source_row IS 'Row of the record in its export file: 1 is the first data row (line, sheet row below the header, or JSON line).';
COMMENT ON COLUMN stg_assistance.source_sha256 IS 'SHA-256 of the export file''s bytes; identifies the content whatever the file name.';
COMMENT ON COLUMN stg_assistance.era IS 'Export era the file was recognised as (ctm_legacy, mimosa_xlsx, case_api_jsonl, ctdc_global).';
COMMENT ON COLUMN stg_assistance.received_date IS 'Date the export was received (the second folder under the exports folder).';

CREATE TABLE IF NOT EXISTS ref_ctdc_cases (
    registration_year BIGINT NOT NULL,
    ctdc_gender VARCHAR,
    age_band VARCHAR,
    citizenship VARCHAR,
    is_citizenship_unknown BOOLEAN NOT NULL,
    is_forced_labour BOOLEAN,
    is_sexual_exploitation BOOLEAN,
    exploitation_country VARCHAR,
    source_file VARCHAR NOT NULL,
    source_row BIGINT NOT NULL,
    source_sha256 VARCHAR NOT NULL,
    PRIMARY KEY (source_file, source_row)
);
COMMENT ON TABLE ref_ctdc_cases IS 'The Counter Trafficking Data Collaborative''s public global dataset, a reference source kept apart from mission facts. Grain: one row per record of the public CTDC global dataset (2020 release, k-anonymised).';
COMMENT ON COLUMN ref_ctdc_cases.registration_year IS 'Year of the registration date (cases before 1999 are out of scope of the facts).';
COMMENT ON COLUMN ref_ctdc_cases.ctdc_gender IS 'CTDC gender (Female, Male) mapped to the sex code list.';
COMMENT ON COLUMN ref_ctdc_cases.age_band IS 'CTDC age band of the age at identification (0-8, 9-17, 18-20, 21-23, 24-26, 27-29, 30-38, 39-47, 48+).';
COMMENT ON COLUMN ref_ctdc_cases.citizenship IS 'Country of citizenship, ISO 3166-1 alpha-2.';
COMMENT ON COLUMN ref_ctdc_cases.is_citizenship_unknown IS 'CTDC wrote 0, 00 or ZZ: citizenship explicitly unknown (as opposed to not recorded).';
COMMENT ON COLUMN ref_ctdc_cases.is_forced_labour IS 'CTDC flag: the case involved forced labour (empty when not recorded).';
COMMENT ON COLUMN ref_ctdc_cases.is_sexual_exploitation IS 'CTDC flag: the case involved sexual exploitation (empty when not recorded).';
COMMENT ON COLUMN ref_ctdc_cases.exploitation_country IS 'Country where the person was exploited, ISO 3166-1 alpha-2.';
COMMENT ON COLUMN ref_ctdc_cases.source_file IS 'Path of the export file relative to the exports folder (mission/received-date/file).';
COMMENT ON COLUMN ref_ctdc_cases.source_row IS 'Row of the record in its export file: 1 is the first data row (line, sheet row below the header, or JSON line).';
COMMENT ON COLUMN ref_ctdc_cases.source_sha256 IS 'SHA-256 of the export file''s bytes; identifies the content whatever the file name.';

CREATE TABLE IF NOT EXISTS warehouse_ledger (
    source_file VARCHAR NOT NULL,
    form VARCHAR NOT NULL,
    mission_code VARCHAR NOT NULL,
    received_date DATE NOT NULL,
    era VARCHAR NOT NULL,
    source_sha256 VARCHAR NOT NULL,
    rows_staged BIGINT NOT NULL,
    content_fingerprint BIGINT NOT NULL,
    PRIMARY KEY (source_file, form)
);
COMMENT ON TABLE warehouse_ledger IS 'Which staged export files the star schema was built from, with their staged row counts and a fingerprint of their staged rows; a file whose staged rows change in any way is reloaded. Grain: one row per export file and form whose staged rows are loaded into the core tables.';
COMMENT ON COLUMN warehouse_ledger.source_file IS 'Path of the export file relative to the exports folder (mission/received-date/file).';
COMMENT ON COLUMN warehouse_ledger.form IS 'Interview form the record comes from (screening or assistance).';
COMMENT ON COLUMN warehouse_ledger.mission_code IS 'Code of the mission that sent the export (the first folder under the exports folder), e.g. MD-CHI.';
COMMENT ON COLUMN warehouse_ledger.received_date IS 'Date the export was received (the second folder under the exports folder).';
COMMENT ON COLUMN warehouse_ledger.era IS 'Export era the file was recognised as (ctm_legacy, mimosa_xlsx, case_api_jsonl, ctdc_global).';
COMMENT ON COLUMN warehouse_ledger.source_sha256 IS 'SHA-256 of the export file''s bytes; identifies the content whatever the file name.';
COMMENT ON COLUMN warehouse_ledger.rows_staged IS 'Rows that passed validation and went on to staging.';
COMMENT ON COLUMN warehouse_ledger.content_fingerprint IS 'Order-independent hash of every value of the file''s staged rows of this form; when staging changes them in place (a reload, a person relinked across nights), the file''s cases are rebuilt.';

CREATE TABLE IF NOT EXISTS dim_countries (
    country_code VARCHAR NOT NULL,
    country_alpha3 VARCHAR,
    country_numeric VARCHAR,
    country_name VARCHAR NOT NULL,
    region VARCHAR,
    sub_region VARCHAR,
    is_gaf_excluded BOOLEAN NOT NULL,
    PRIMARY KEY (country_code)
);
COMMENT ON TABLE dim_countries IS 'Countries with ISO codes, UN M49 region and sub-region, and whether an identification there is excluded from the Global Assistance Fund. Grain: one row per country or territory of ISO 3166-1 (alpha-2 code).';
COMMENT ON COLUMN dim_countries.country_code IS 'Country, ISO 3166-1 alpha-2 (NA is Namibia); the key of dim_countries.';
COMMENT ON COLUMN dim_countries.country_alpha3 IS 'ISO 3166-1 alpha-3 code of the country.';
COMMENT ON COLUMN dim_countries.country_numeric IS 'ISO 3166-1 numeric code of the country, three digits kept as text (empty for Kosovo, which has none).';
COMMENT ON COLUMN dim_countries.country_name IS 'English short name of the country or territory.';
COMMENT ON COLUMN dim_countries.region IS 'UN M49 region of the country (Africa, Americas, Asia, Europe, Oceania).';
COMMENT ON COLUMN dim_countries.sub_region IS 'UN M49 sub-region of the country, e.g. Eastern Europe, Sub-Saharan Africa.';
COMMENT ON COLUMN dim_countries.is_gaf_excluded IS 'An identification in this country does not qualify for the Global Assistance Fund (GAF rule 2: Australia, Europe, Japan, North America and New Zealand are excluded).';

CREATE TABLE IF NOT EXISTS dim_missions (
    mission_code VARCHAR NOT NULL,
    mission_country_code VARCHAR,
    country_name VARCHAR,
    region VARCHAR,
    sub_region VARCHAR,
    is_gaf_excluded BOOLEAN,
    first_received_date DATE NOT NULL,
    last_received_date DATE NOT NULL,
    export_count BIGINT NOT NULL,
    PRIMARY KEY (mission_code)
);
COMMENT ON TABLE dim_missions IS 'Missions (the first folder under the exports folder), with their country and region and the span and number of their loaded exports. Grain: one row per mission that sent an export loaded into the warehouse.';
COMMENT ON COLUMN dim_missions.mission_code IS 'Code of the mission that sent the export (the first folder under the exports folder), e.g. MD-CHI.';
COMMENT ON COLUMN dim_missions.mission_country_code IS 'Country of the mission: the two letters of the mission code before the hyphen (MD-CHI -> MD); empty when they are not a known ISO alpha-2 code.';
COMMENT ON COLUMN dim_missions.country_name IS 'English short name of the country or territory.';
COMMENT ON COLUMN dim_missions.region IS 'UN M49 region of the country (Africa, Americas, Asia, Europe, Oceania).';
COMMENT ON COLUMN dim_missions.sub_region IS 'UN M49 sub-region of the country, e.g. Eastern Europe, Sub-Saharan Africa.';
COMMENT ON COLUMN dim_missions.is_gaf_excluded IS 'An identification in this country does not qualify for the Global Assistance Fund (GAF rule 2: Australia, Europe, Japan, North America and New Zealand are excluded).';
COMMENT ON COLUMN dim_missions.first_received_date IS 'Receipt date of the mission''s first export loaded into the warehouse.';
COMMENT ON COLUMN dim_missions.last_received_date IS 'Receipt date of the mission''s latest export loaded into the warehouse.';
COMMENT ON COLUMN dim_missions.export_count IS 'Number of export files of the mission loaded into the warehouse.';

CREATE TABLE IF NOT EXISTS dim_dates (
    calendar_date DATE NOT NULL,
    calendar_year BIGINT NOT NULL,
    quarter_of_year BIGINT NOT NULL,
    month_of_year BIGINT NOT NULL,
    month_name VARCHAR NOT NULL,
    iso_year BIGINT NOT NULL,
    iso_week BIGINT NOT NULL,
    day_of_month BIGINT NOT NULL,
    day_of_week BIGINT NOT NULL,
    day_name VARCHAR NOT NULL,
    is_weekend BOOLEAN NOT NULL,
    PRIMARY KEY (calendar_date)
);
COMMENT ON TABLE dim_dates IS 'Calendar of the warehouse period, to join on any date column (registration, identification, assistance) for year, quarter, month, ISO week and weekday. Grain: one row per calendar day from 1999-01-01 to the end of the current year.';
COMMENT ON COLUMN dim_dates.calendar_date IS 'The calendar day (the key of dim_dates).';
COMMENT ON COLUMN dim_dates.calendar_year IS 'Calendar year of the day.';
COMMENT ON COLUMN dim_dates.quarter_of_year IS 'Calendar quarter of the day, 1 to 4.';
COMMENT ON COLUMN dim_dates.month_of_year IS 'Calendar month of the day, 1 (January) to 12.';
COMMENT ON COLUMN dim_dates.month_name IS 'English name of the month of the day.';
COMMENT ON COLUMN dim_dates.iso_year IS 'ISO 8601 week-numbering year of the day (differs from the calendar year around 1 January).';
COMMENT ON COLUMN dim_dates.iso_week IS 'ISO 8601 week number of the day, 1 to 53.';
COMMENT ON COLUMN dim_dates.day_of_month IS 'Day of the month, 1 to 31.';
COMMENT ON COLUMN dim_dates.day_of_week IS 'ISO day of the week: 1 is Monday, 7 is Sunday.';
COMMENT ON COLUMN dim_dates.day_name IS 'English name of the day of the week.';
COMMENT ON COLUMN dim_dates.is_weekend IS 'The day is a Saturday or a Sunday.';

CREATE TABLE IF NOT EXISTS dim_persons (
    person_token VARCHAR NOT NULL,
    sex VARCHAR,
    birth_year BIGINT,
    citizenship VARCHAR,
    first_registration_year BIGINT NOT NULL,
    screening_count BIGINT NOT NULL,
    case_count BIGINT NOT NULL,
    mission_count BIGINT NOT NULL,
    PRIMARY KEY (person_token)
);
COMMENT ON TABLE dim_persons IS 'Persons by keyed pseudonym, with generalised attributes only (sex, birth year, citizenship from their most recently registered case that records them) and their number of screenings, cases and missions. Nothing identifying. Grain: one row per person token of a screened case registered from 1999 on.';
COMMENT ON COLUMN dim_persons.person_token IS 'Keyed pseudonym of the person (normalised name and date of birth or birth year), linked across missions.';
COMMENT ON COLUMN dim_persons.sex IS 'Sex as recorded on the screening form.';
COMMENT ON COLUMN dim_persons.birth_year IS 'Year of birth (from the date of birth, or estimated from the reported age).';
COMMENT ON COLUMN dim_persons.citizenship IS 'Country of citizenship, ISO 3166-1 alpha-2.';
COMMENT ON COLUMN dim_persons.first_registration_year IS 'Year of the person''s earliest registered case (screened from 1999 on).';
COMMENT ON COLUMN dim_persons.screening_count IS 'Number of cases of the person in fct_screenings (screened, whatever the outcome).';
COMMENT ON COLUMN dim_persons.case_count IS 'Number of cases of the person in fct_cases (identified as a victim or presumed victim); more than one can mean re-trafficking.';
COMMENT ON COLUMN dim_persons.mission_count IS 'Number of distinct missions that screened the person.';

CREATE TABLE IF NOT EXISTS dim_exploitation_types (
    exploitation_type VARCHAR NOT NULL,
    code_label VARCHAR NOT NULL,
    code_order BIGINT NOT NULL,
    PRIMARY KEY (exploitation_type)
);
COMMENT ON TABLE dim_exploitation_types IS 'Types of exploitation (HTCDS) with labels and display order; the values of fct_cases.exploitation_types. Grain: one row per code of the exploitation type code list.';
COMMENT ON COLUMN dim_exploitation_types.exploitation_type IS 'One type of exploitation (HTCDS); the key of dim_exploitation_types and the element type of exploitation_types.';
COMMENT ON COLUMN dim_exploitation_types.code_label IS 'Readable English label of the code, from its code list.';
COMMENT ON COLUMN dim_exploitation_types.code_order IS 'Position of the code in its code list (for sorting charts and tables).';

CREATE TABLE IF NOT EXISTS dim_assistance_types (
    assistance_type VARCHAR NOT NULL,
    code_label VARCHAR NOT NULL,
    code_order BIGINT NOT NULL,
    PRIMARY KEY (assistance_type)
);
COMMENT ON TABLE dim_assistance_types IS 'Kinds of direct assistance with labels and display order; the values of fct_assistance.assistance_type. Grain: one row per code of the assistance type code list.';
COMMENT ON COLUMN dim_assistance_types.assistance_type IS 'Kind of assistance delivered in the episode.';
COMMENT ON COLUMN dim_assistance_types.code_label IS 'Readable English label of the code, from its code list.';
COMMENT ON COLUMN dim_assistance_types.code_order IS 'Position of the code in its code list (for sorting charts and tables).';

CREATE TABLE IF NOT EXISTS fct_screenings (
    case_token VARCHAR NOT NULL,
    person_token VARCHAR,
    mission_code VARCHAR NOT NULL,
    registration_date DATE NOT NULL,
    registration_year BIGINT NOT NULL,
    identification_date DATE,
    identification_year BIGINT,
    identifying_agency VARCHAR,
    victim_status VARCHAR,
    is_eligible_for_assistance BOOLEAN,
    sex VARCHAR,
    birth_year BIGINT,
    age_band VARCHAR,
    citizenship VARCHAR,
    version_count BIGINT NOT NULL,
    key_version VARCHAR NOT NULL,
    source_file VARCHAR NOT NULL,
    source_row BIGINT NOT NULL,
    era VARCHAR NOT NULL,
    received_date DATE NOT NULL,
    PRIMARY KEY (case_token)
);
COMMENT ON TABLE fct_screenings IS 'Outcome of every screening interview, eligible or not, victim or not; the latest export of a case wins, earlier versions are in fct_case_versions. Grain: one row per screened case registered from 1999 on (the current version of its screening interview), whatever the outcome.';
COMMENT ON COLUMN fct_screenings.case_token IS 'Keyed pseudonym (HMAC-SHA256) of the case: mission code and case number. Stable across exports and eras.';
COMMENT ON COLUMN fct_screenings.person_token IS 'Keyed pseudonym of the person (normalised name and date of birth or birth year), linked across missions.';
COMMENT ON COLUMN fct_screenings.mission_code IS 'Code of the mission that sent the export (the first folder under the exports folder), e.g. MD-CHI.';
COMMENT ON COLUMN fct_screenings.registration_date IS 'Date the case was registered by the mission.';
COMMENT ON COLUMN fct_screenings.registration_year IS 'Year of the registration date (cases before 1999 are out of scope of the facts).';
COMMENT ON COLUMN fct_screenings.identification_date IS 'Date the person was identified as a (presumed) victim.';
COMMENT ON COLUMN fct_screenings.identification_year IS 'Year of the identification date.';
COMMENT ON COLUMN fct_screenings.identifying_agency IS 'Who identified the person and referred them to the mission.';
COMMENT ON COLUMN fct_screenings.victim_status IS 'Outcome of the screening: victim, presumed victim, not a victim, undetermined.';
COMMENT ON COLUMN fct_screenings.is_eligible_for_assistance IS 'Whether the screening found the person eligible for assistance.';
COMMENT ON COLUMN fct_screenings.sex IS 'Sex as recorded on the screening form.';
COMMENT ON COLUMN fct_screenings.birth_year IS 'Year of birth (from the date of birth, or estimated from the reported age).';
COMMENT ON COLUMN fct_screenings.age_band IS 'CTDC age band of the age at identification (0-8, 9-17, 18-20, 21-23, 24-26, 27-29, 30-38, 39-47, 48+).';
COMMENT ON COLUMN fct_screenings.citizenship IS 'Country of citizenship, ISO 3166-1 alpha-2.';
COMMENT ON COLUMN fct_screenings.version_count IS 'Number of distinct versions of the record received over all exports (1 = never changed); see fct_case_versions.';
COMMENT ON COLUMN fct_screenings.key_version IS 'Version of the pseudonymisation key that produced the tokens of this row.';
COMMENT ON COLUMN fct_screenings.source_file IS 'Path of the export file relative to the exports folder (mission/received-date/file).';
COMMENT ON COLUMN fct_screenings.source_row IS 'Row of the record in its export file: 1 is the first data row (line, sheet row below the header, or JSON line).';
COMMENT ON COLUMN fct_screenings.era IS 'Export era the file was recognised as (ctm_legacy, mimosa_xlsx, case_api_jsonl, ctdc_global).';
COMMENT ON COLUMN fct_screenings.received_date IS 'Date the export was received (the second folder under the exports folder).';

CREATE TABLE IF NOT EXISTS fct_cases (
    case_token VARCHAR NOT NULL,
    person_token VARCHAR,
    mission_code VARCHAR NOT NULL,
    registration_date DATE NOT NULL,
    registration_year BIGINT NOT NULL,
    identification_date DATE,
    identification_year BIGINT,
    age_at_identification BIGINT,
    age_band VARCHAR,
    sex VARCHAR,
    citizenship VARCHAR,
    victim_status VARCHAR,
    exploitation_types VARCHAR[],
    labour_sectors VARCHAR[],
    means_of_control VARCHAR[],
    recruiter_relationship VARCHAR,
    recruitment_country VARCHAR,
    exploitation_country VARCHAR,
    exploitation_days BIGINT,
    is_gaf_eligible BOOLEAN,
    gaf_eligibility_reason VARCHAR NOT NULL,
    has_research_consent BOOLEAN,
    key_version VARCHAR NOT NULL,
    source_file VARCHAR NOT NULL,
    era VARCHAR NOT NULL,
    source_row BIGINT NOT NULL,
    received_date DATE NOT NULL,
    PRIMARY KEY (case_token)
);
COMMENT ON TABLE fct_cases IS 'Trafficking cases, the centre of the star schema, with the profile of the person at identification, the exploitation, the route''s end points, Global Assistance Fund eligibility with its reason, and lineage (source file, era, row, export date). Grain: one row per case (a current screening with victim status victim or presumed victim) registered from 1999 on.';
COMMENT ON COLUMN fct_cases.case_token IS 'Keyed pseudonym (HMAC-SHA256) of the case: mission code and case number. Stable across exports and eras.';
COMMENT ON COLUMN fct_cases.person_token IS 'Keyed pseudonym of the person (normalised name and date of birth or birth year), linked across missions.';
COMMENT ON COLUMN fct_cases.mission_code IS 'Code of the mission that sent the export (the first folder under the exports folder), e.g. MD-CHI.';
COMMENT ON COLUMN fct_cases.registration_date IS 'Date the case was registered by the mission.';
COMMENT ON COLUMN fct_cases.registration_year IS 'Year of the registration date (cases before 1999 are out of scope of the facts).';
COMMENT ON COLUMN fct_cases.identification_date IS 'Date the person was identified as a (presumed) victim.';
COMMENT ON COLUMN fct_cases.identification_year IS 'Year of the identification date.';
COMMENT ON COLUMN fct_cases.age_at_identification IS 'Age in whole years on the identification date.';
COMMENT ON COLUMN fct_cases.age_band IS 'CTDC age band of the age at identification (0-8, 9-17, 18-20, 21-23, 24-26, 27-29, 30-38, 39-47, 48+).';
COMMENT ON COLUMN fct_cases.sex IS 'Sex as recorded on the screening form.';
COMMENT ON COLUMN fct_cases.citizenship IS 'Country of citizenship, ISO 3166-1 alpha-2.';
COMMENT ON COLUMN fct_cases.victim_status IS 'Outcome of the screening: victim, presumed victim, not a victim, undetermined.';
COMMENT ON COLUMN fct_cases.exploitation_types IS 'Types of exploitation suffered (HTCDS), several possible.';
COMMENT ON COLUMN fct_cases.labour_sectors IS 'Sectors of forced labour (HTCDS), several possible.';
COMMENT ON COLUMN fct_cases.means_of_control IS 'Means the trafficker used to control the person (HTCDS), several possible.';
COMMENT ON COLUMN fct_cases.recruiter_relationship IS 'Relationship of the recruiter to the person.';
COMMENT ON COLUMN fct_cases.recruitment_country IS 'Country where the person was recruited, ISO 3166-1 alpha-2.';
COMMENT ON COLUMN fct_cases.exploitation_country IS 'Country where the person was exploited, ISO 3166-1 alpha-2.';
COMMENT ON COLUMN fct_cases.exploitation_days IS 'Duration of exploitation in days (end minus start).';
COMMENT ON COLUMN fct_cases.is_gaf_eligible IS 'Eligible for the Global Assistance Fund on rules (1) identified as a victim of trafficking (victim_status victim; a presumed victim is not), (2) identified outside Australia, Europe, Japan, North America and New Zealand (the mission''s country, dim_countries.is_gaf_excluded), and identified on or after 2000-08-01 (GAF was created in August 2000; the registration date stands in when the identification date is missing). Rule (3), not eligible for a similar regional programme, is not recorded in any export and is not checked. Empty when the mission''s country is unknown.';
COMMENT ON COLUMN fct_cases.gaf_eligibility_reason IS 'Why is_gaf_eligible is what it is, the first rule that fails: eligible | not_identified_as_victim | identified_in_excluded_country | identified_before_gaf | mission_country_unknown.';
COMMENT ON COLUMN fct_cases.has_research_consent IS 'Whether the person consented to the use of their anonymised data for research.';
COMMENT ON COLUMN fct_cases.key_version IS 'Version of the pseudonymisation key that produced the tokens of this row.';
COMMENT ON COLUMN fct_cases.source_file IS 'Path of the export file relative to the exports folder (mission/received-date/file).';
COMMENT ON COLUMN fct_cases.era IS 'Export era the file was recognised as (ctm_legacy, mimosa_xlsx, case_api_jsonl, ctdc_global).';
COMMENT ON COLUMN fct_cases.source_row IS 'Row of the record in its export file: 1 is the first data row (line, sheet row below the header, or JSON line).';
COMMENT ON COLUMN fct_cases.received_date IS 'Date the export was received (the second folder under the exports folder).';

CREATE TABLE IF NOT EXISTS fct_route_legs (
    case_token VARCHAR NOT NULL,
    leg_order BIGINT NOT NULL,
    route_stage VARCHAR NOT NULL,
    country_code VARCHAR NOT NULL,
    registration_year BIGINT NOT NULL,
    PRIMARY KEY (case_token, leg_order)
);
COMMENT ON TABLE fct_route_legs IS 'The route of each case in fct_cases as ordered legs, for corridor analyses; stages not recorded are skipped, so leg_order has no gaps. Grain: one row per leg of a case''s route (recruitment, each transit country in order, exploitation).';
COMMENT ON COLUMN fct_route_legs.case_token IS 'Keyed pseudonym (HMAC-SHA256) of the case: mission code and case number. Stable across exports and eras.';
COMMENT ON COLUMN fct_route_legs.leg_order IS 'Position of the leg in the case''s route, 1 = first (recruitment, then transits in the order recorded, then exploitation; unrecorded stages skipped).';
COMMENT ON COLUMN fct_route_legs.route_stage IS 'Stage of the route the leg''s country stands for: recruitment, transit or exploitation.';
COMMENT ON COLUMN fct_route_legs.country_code IS 'Country, ISO 3166-1 alpha-2 (NA is Namibia); the key of dim_countries.';
COMMENT ON COLUMN fct_route_legs.registration_year IS 'Year of the registration date (cases before 1999 are out of scope of the facts).';

CREATE TABLE IF NOT EXISTS fct_assistance (
    case_token VARCHAR NOT NULL,
    episode_number BIGINT NOT NULL,
    assistance_type VARCHAR NOT NULL,
    assistance_start_date DATE,
    assistance_end_date DATE,
    assistance_days BIGINT,
    days_from_identification BIGINT,
    funding_source VARCHAR,
    is_gaf_funded BOOLEAN,
    reintegration_outcome VARCHAR,
    return_country VARCHAR,
    registration_year BIGINT NOT NULL,
    key_version VARCHAR NOT NULL,
    mission_code VARCHAR NOT NULL,
    source_file VARCHAR NOT NULL,
    source_row BIGINT NOT NULL,
    era VARCHAR NOT NULL,
    received_date DATE NOT NULL,
    PRIMARY KEY (case_token, episode_number)
);
COMMENT ON TABLE fct_assistance IS 'Assistance delivered, one episode per row, latest export wins per case, type and start date; with duration, delay from identification and GAF funding, and lineage. Grain: one row per assistance episode (case, assistance type, start date) of a screened case registered from 1999 on.';
COMMENT ON COLUMN fct_assistance.case_token IS 'Keyed pseudonym (HMAC-SHA256) of the case: mission code and case number. Stable across exports and eras.';
COMMENT ON COLUMN fct_assistance.episode_number IS 'Number of the assistance episode within its case, 1 = earliest (by start date, undated episodes last, then assistance type).';
COMMENT ON COLUMN fct_assistance.assistance_type IS 'Kind of assistance delivered in the episode.';
COMMENT ON COLUMN fct_assistance.assistance_start_date IS 'First day of the assistance episode.';
COMMENT ON COLUMN fct_assistance.assistance_end_date IS 'Last day of the assistance episode (empty while ongoing).';
COMMENT ON COLUMN fct_assistance.assistance_days IS 'Length of the episode in days, first and last day included (end - start + 1); empty while ongoing or when a date is missing or the end precedes the start.';
COMMENT ON COLUMN fct_assistance.days_from_identification IS 'Days from the case''s identification date to the start of the episode (negative when assistance began before the recorded identification).';
COMMENT ON COLUMN fct_assistance.funding_source IS 'Who funded the episode; gaf is the Global Assistance Fund (from August 2000).';
COMMENT ON COLUMN fct_assistance.is_gaf_funded IS 'The episode was funded by the Global Assistance Fund (funding_source gaf); empty when the funding source is not recorded.';
COMMENT ON COLUMN fct_assistance.reintegration_outcome IS 'Outcome of a reintegration episode.';
COMMENT ON COLUMN fct_assistance.return_country IS 'Destination of a voluntary return, ISO 3166-1 alpha-2.';
COMMENT ON COLUMN fct_assistance.registration_year IS 'Year of the registration date (cases before 1999 are out of scope of the facts).';
COMMENT ON COLUMN fct_assistance.key_version IS 'Version of the pseudonymisation key that produced the tokens of this row.';
COMMENT ON COLUMN fct_assistance.mission_code IS 'Code of the mission that sent the export (the first folder under the exports folder), e.g. MD-CHI.';
COMMENT ON COLUMN fct_assistance.source_file IS 'Path of the export file relative to the exports folder (mission/received-date/file).';
COMMENT ON COLUMN fct_assistance.source_row IS 'Row of the record in its export file: 1 is the first data row (line, sheet row below the header, or JSON line).';
COMMENT ON COLUMN fct_assistance.era IS 'Export era the file was recognised as (ctm_legacy, mimosa_xlsx, case_api_jsonl, ctdc_global).';
COMMENT ON COLUMN fct_assistance.received_date IS 'Date the export was received (the second folder under the exports folder).';

CREATE TABLE IF NOT EXISTS fct_case_versions (
    case_token VARCHAR NOT NULL,
    version_number BIGINT NOT NULL,
    record_status VARCHAR NOT NULL,
    is_current BOOLEAN NOT NULL,
    mission_code VARCHAR NOT NULL,
    source_file VARCHAR NOT NULL,
    source_row BIGINT NOT NULL,
    era VARCHAR NOT NULL,
    received_date DATE NOT NULL,
    superseded_by_source_file VARCHAR,
    superseded_by_source_row BIGINT,
    superseded_by_received_date DATE,
    duplicate_of_source_file VARCHAR,
    duplicate_of_source_row BIGINT,
    PRIMARY KEY (source_file, source_row)
);
COMMENT ON TABLE fct_case_versions IS 'History and row accounting of screenings; every staged screening row is current, superseded, duplicate or out of scope, with the later version that superseded it. Join to stg_screenings on (source_file, source_row) for the content of an earlier version. Grain: one row per staged screening row (one export''s version of a case), current or not.';
COMMENT ON COLUMN fct_case_versions.case_token IS 'Keyed pseudonym (HMAC-SHA256) of the case: mission code and case number. Stable across exports and eras.';
COMMENT ON COLUMN fct_case_versions.version_number IS 'Version of the record this staged row carries, 1 = first received; a row identical to the version before it keeps that version''s number.';
COMMENT ON COLUMN fct_case_versions.record_status IS 'What became of the staged row in the warehouse: current (it is the fact row) | superseded (a later export changed the record) | duplicate (same content as the version before it: counted once) | out_of_scope (case registered before 1999) | unmatched (assistance of a case with no staged screening).';
COMMENT ON COLUMN fct_case_versions.is_current IS 'The staged row is the one in the fact table (record_status current).';
COMMENT ON COLUMN fct_case_versions.mission_code IS 'Code of the mission that sent the export (the first folder under the exports folder), e.g. MD-CHI.';
COMMENT ON COLUMN fct_case_versions.source_file IS 'Path of the export file relative to the exports folder (mission/received-date/file).';
COMMENT ON COLUMN fct_case_versions.source_row IS 'Row of the record in its export file: 1 is the first data row (line, sheet row below the header, or JSON line).';
COMMENT ON COLUMN fct_case_versions.era IS 'Export era the file was recognised as (ctm_legacy, mimosa_xlsx, case_api_jsonl, ctdc_global).';
COMMENT ON COLUMN fct_case_versions.received_date IS 'Date the export was received (the second folder under the exports folder).';
COMMENT ON COLUMN fct_case_versions.superseded_by_source_file IS 'Export file of the next version of the record (for superseded rows and their duplicates).';
COMMENT ON COLUMN fct_case_versions.superseded_by_source_row IS 'Row, in superseded_by_source_file, of the next version of the record.';
COMMENT ON COLUMN fct_case_versions.superseded_by_received_date IS 'Receipt date of the export that carried the next version of the record.';
COMMENT ON COLUMN fct_case_versions.duplicate_of_source_file IS 'For a duplicate row: export file of the first row of the version it repeats.';
COMMENT ON COLUMN fct_case_versions.duplicate_of_source_row IS 'For a duplicate row: row, in duplicate_of_source_file, of the first row of the version it repeats.';

CREATE TABLE IF NOT EXISTS fct_assistance_versions (
    case_token VARCHAR NOT NULL,
    assistance_type VARCHAR NOT NULL,
    assistance_start_date DATE,
    version_number BIGINT NOT NULL,
    record_status VARCHAR NOT NULL,
    is_current BOOLEAN NOT NULL,
    episode_number BIGINT,
    mission_code VARCHAR NOT NULL,
    source_file VARCHAR NOT NULL,
    source_row BIGINT NOT NULL,
    era VARCHAR NOT NULL,
    received_date DATE NOT NULL,
    superseded_by_source_file VARCHAR,
    superseded_by_source_row BIGINT,
    superseded_by_received_date DATE,
    duplicate_of_source_file VARCHAR,
    duplicate_of_source_row BIGINT,
    PRIMARY KEY (source_file, source_row)
);
COMMENT ON TABLE fct_assistance_versions IS 'History and row accounting of assistance episodes, keyed by case, assistance type and start date; every staged assistance row is current, superseded, duplicate, out of scope or unmatched. Join to stg_assistance on (source_file, source_row) for its content. Grain: one row per staged assistance row (one export''s version of an episode), current or not.';
COMMENT ON COLUMN fct_assistance_versions.case_token IS 'Keyed pseudonym (HMAC-SHA256) of the case: mission code and case number. Stable across exports and eras.';
COMMENT ON COLUMN fct_assistance_versions.assistance_type IS 'Kind of assistance delivered in the episode.';
COMMENT ON COLUMN fct_assistance_versions.assistance_start_date IS 'First day of the assistance episode.';
COMMENT ON COLUMN fct_assistance_versions.version_number IS 'Version of the record this staged row carries, 1 = first received; a row identical to the version before it keeps that version''s number.';
COMMENT ON COLUMN fct_assistance_versions.record_status IS 'What became of the staged row in the warehouse: current (it is the fact row) | superseded (a later export changed the record) | duplicate (same content as the version before it: counted once) | out_of_scope (case registered before 1999) | unmatched (assistance of a case with no staged screening).';
COMMENT ON COLUMN fct_assistance_versions.is_current IS 'The staged row is the one in the fact table (record_status current).';
COMMENT ON COLUMN fct_assistance_versions.episode_number IS 'Number of the assistance episode within its case, 1 = earliest (by start date, undated episodes last, then assistance type).';
COMMENT ON COLUMN fct_assistance_versions.mission_code IS 'Code of the mission that sent the export (the first folder under the exports folder), e.g. MD-CHI.';
COMMENT ON COLUMN fct_assistance_versions.source_file IS 'Path of the export file relative to the exports folder (mission/received-date/file).';
COMMENT ON COLUMN fct_assistance_versions.source_row IS 'Row of the record in its export file: 1 is the first data row (line, sheet row below the header, or JSON line).';
COMMENT ON COLUMN fct_assistance_versions.era IS 'Export era the file was recognised as (ctm_legacy, mimosa_xlsx, case_api_jsonl, ctdc_global).';
COMMENT ON COLUMN fct_assistance_versions.received_date IS 'Date the export was received (the second folder under the exports folder).';
COMMENT ON COLUMN fct_assistance_versions.superseded_by_source_file IS 'Export file of the next version of the record (for superseded rows and their duplicates).';
COMMENT ON COLUMN fct_assistance_versions.superseded_by_source_row IS 'Row, in superseded_by_source_file, of the next version of the record.';
COMMENT ON COLUMN fct_assistance_versions.superseded_by_received_date IS 'Receipt date of the export that carried the next version of the record.';
COMMENT ON COLUMN fct_assistance_versions.duplicate_of_source_file IS 'For a duplicate row: export file of the first row of the version it repeats.';
COMMENT ON COLUMN fct_assistance_versions.duplicate_of_source_row IS 'For a duplicate row: row, in duplicate_of_source_file, of the first row of the version it repeats.';

CREATE TABLE IF NOT EXISTS person_identities (
    source_file VARCHAR NOT NULL,
    source_row BIGINT NOT NULL,
    mission_code VARCHAR NOT NULL,
    case_ref VARCHAR NOT NULL,
    submission_uuid VARCHAR,
    full_name VARCHAR,
    given_name VARCHAR,
    family_name VARCHAR,
    date_of_birth DATE,
    age_reported BIGINT,
    sex VARCHAR,
    citizenship VARCHAR,
    document_number VARCHAR,
    phone VARCHAR,
    address VARCHAR,
    registration_date DATE NOT NULL,
    identification_date DATE,
    exploitation_start_date DATE,
    exploitation_end_date DATE,
    recruitment_date DATE,
    recruitment_country VARCHAR,
    exploitation_country VARCHAR,
    case_token VARCHAR NOT NULL,
    identity_token VARCHAR NOT NULL,
    identity_basis VARCHAR NOT NULL,
    person_token VARCHAR,
    key_version VARCHAR NOT NULL,
    PRIMARY KEY (source_file, source_row)
);
COMMENT ON TABLE person_identities IS 'Identities of screened persons with their exact and linked tokens, as produced by pseudonymisation (restricted zone, in memory; sealed into identity_vault). Grain: one row per screening record, the identity behind its tokens.';
COMMENT ON COLUMN person_identities.source_file IS 'Path of the export file relative to the exports folder (mission/received-date/file).';
COMMENT ON COLUMN person_identities.source_row IS 'Row of the record in its export file: 1 is the first data row (line, sheet row below the header, or JSON line).';
COMMENT ON COLUMN person_identities.mission_code IS 'Code of the mission that sent the export (the first folder under the exports folder), e.g. MD-CHI.';
COMMENT ON COLUMN person_identities.case_ref IS 'The mission''s own case number as written on the forms; links to paper files, so it never leaves the restricted zone.';
COMMENT ON COLUMN person_identities.submission_uuid IS 'Stable submission identifier of the case API (case_api_jsonl era only).';
COMMENT ON COLUMN person_identities.full_name IS 'Name as one cell (legacy module): family and given names in any order.';
COMMENT ON COLUMN person_identities.given_name IS 'Given name(s).';
COMMENT ON COLUMN person_identities.family_name IS 'Family name(s).';
COMMENT ON COLUMN person_identities.date_of_birth IS 'Date of birth as declared; generalised to birth_year and age before leaving the restricted zone.';
COMMENT ON COLUMN person_identities.age_reported IS 'Age declared at interview when no date of birth was given.';
COMMENT ON COLUMN person_identities.sex IS 'Sex as recorded on the screening form.';
COMMENT ON COLUMN person_identities.citizenship IS 'Country of citizenship, ISO 3166-1 alpha-2.';
COMMENT ON COLUMN person_identities.document_number IS 'Passport or identity document number.';
COMMENT ON COLUMN person_identities.phone IS 'Contact phone number.';
COMMENT ON COLUMN person_identities.address IS 'Current address or shelter address.';
COMMENT ON COLUMN person_identities.registration_date IS 'Date the case was registered by the mission.';
COMMENT ON COLUMN person_identities.identification_date IS 'Date the person was identified as a (presumed) victim.';
COMMENT ON COLUMN person_identities.exploitation_start_date IS 'Date the exploitation began.';
COMMENT ON COLUMN person_identities.exploitation_end_date IS 'Date the exploitation ended (exit or identification).';
COMMENT ON COLUMN person_identities.recruitment_date IS 'Date of recruitment.';
COMMENT ON COLUMN person_identities.recruitment_country IS 'Country where the person was recruited, ISO 3166-1 alpha-2.';
COMMENT ON COLUMN person_identities.exploitation_country IS 'Country where the person was exploited, ISO 3166-1 alpha-2.';
COMMENT ON COLUMN person_identities.case_token IS 'Keyed pseudonym (HMAC-SHA256) of the case: mission code and case number. Stable across exports and eras.';
COMMENT ON COLUMN person_identities.identity_token IS 'Exact keyed pseudonym of the person in one record: HMAC of the normalised name and date of birth, or, when there is no date of birth, of the name scoped to the case (restricted zone; person_token is the linked one).';
COMMENT ON COLUMN person_identities.identity_basis IS 'What the identity_token was computed from: name_dob (name and date of birth, global) or case (name within the case: only an age or no name was given).';
COMMENT ON COLUMN person_identities.person_token IS 'Keyed pseudonym of the person (normalised name and date of birth or birth year), linked across missions.';
COMMENT ON COLUMN person_identities.key_version IS 'Version of the pseudonymisation key that produced the tokens of this row.';

CREATE TABLE IF NOT EXISTS identity_vault (
    source_file VARCHAR NOT NULL,
    source_row BIGINT NOT NULL,
    mission_code VARCHAR NOT NULL,
    case_token VARCHAR NOT NULL,
    person_token VARCHAR,
    identity_token VARCHAR NOT NULL,
    identity_basis VARCHAR NOT NULL,
    key_version VARCHAR NOT NULL,
    sealed_identity VARCHAR USING COMPRESSION uncompressed NOT NULL,
    stored_at TIMESTAMP NOT NULL
);
COMMENT ON TABLE identity_vault IS 'The identity vault, token to AES-GCM encrypted identity, for the data custodian''s case management; every access goes through an audited lookup. Grain: one row per screening record whose identity is kept for re-identification.';
COMMENT ON COLUMN identity_vault.source_file IS 'Path of the export file relative to the exports folder (mission/received-date/file).';
COMMENT ON COLUMN identity_vault.source_row IS 'Row of the record in its export file: 1 is the first data row (line, sheet row below the header, or JSON line).';
COMMENT ON COLUMN identity_vault.mission_code IS 'Code of the mission that sent the export (the first folder under the exports folder), e.g. MD-CHI.';
COMMENT ON COLUMN identity_vault.case_token IS 'Keyed pseudonym (HMAC-SHA256) of the case: mission code and case number. Stable across exports and eras.';
COMMENT ON COLUMN identity_vault.person_token IS 'Keyed pseudonym of the person (normalised name and date of birth or birth year), linked across missions.';
COMMENT ON COLUMN identity_vault.identity_token IS 'Exact keyed pseudonym of the person in one record: HMAC of the normalised name and date of birth, or, when there is no date of birth, of the name scoped to the case (restricted zone; person_token is the linked one).';
COMMENT ON COLUMN identity_vault.identity_basis IS 'What the identity_token was computed from: name_dob (name and date of birth, global) or case (name within the case: only an age or no name was given).';
COMMENT ON COLUMN identity_vault.key_version IS 'Version of the pseudonymisation key that produced the tokens of this row.';
COMMENT ON COLUMN identity_vault.sealed_identity IS 'The record''s identity (names, date of birth, documents, phone, address, mission, case number) as base64 of nonce, AES-256-GCM ciphertext and tag; opened only by the key holder through an audited vault lookup.';
COMMENT ON COLUMN identity_vault.stored_at IS 'When the identity was sealed into the vault (UTC).';

CREATE TABLE IF NOT EXISTS vault_audit_log (
    audit_seq BIGINT NOT NULL,
    looked_up_at TIMESTAMP NOT NULL,
    looked_up_token VARCHAR NOT NULL,
    looked_up_by VARCHAR NOT NULL,
    lookup_reason VARCHAR NOT NULL,
    returned_count BIGINT NOT NULL,
    audit_hash VARCHAR NOT NULL,
    PRIMARY KEY (audit_seq)
);
COMMENT ON TABLE vault_audit_log IS 'Append-only, hash-chained log of vault accesses (when, which token, who, why, how many records); holds no identity. Grain: one row per access to the identity vault.';
COMMENT ON COLUMN vault_audit_log.audit_seq IS 'Position of the entry in the vault audit log (1, 2, 3, ...), the order of the hash chain.';
COMMENT ON COLUMN vault_audit_log.looked_up_at IS 'When the vault was accessed (UTC).';
COMMENT ON COLUMN vault_audit_log.looked_up_token IS 'The token whose identities were asked for (case, person or identity token; * for a bulk decryption such as a key rotation or a re-linkage).';
COMMENT ON COLUMN vault_audit_log.looked_up_by IS 'Account of the custodian who accessed the vault.';
COMMENT ON COLUMN vault_audit_log.lookup_reason IS 'Why the vault was accessed, as given by the custodian; refused and replaced when it contained an identifying value.';
COMMENT ON COLUMN vault_audit_log.returned_count IS 'Identity records returned by the vault access.';
COMMENT ON COLUMN vault_audit_log.audit_hash IS 'SHA-256 of the previous entry''s hash and this entry: editing or removing an entry breaks the chain.';

CREATE TABLE IF NOT EXISTS token_rotation_map (
    token_kind VARCHAR NOT NULL,
    old_token VARCHAR NOT NULL,
    new_token VARCHAR NOT NULL,
    old_key_version VARCHAR NOT NULL,
    new_key_version VARCHAR NOT NULL,
    rotated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (token_kind, old_token)
);
COMMENT ON TABLE token_rotation_map IS 'Old to new tokens of each key rotation, to re-tokenise analyst tables consistently; kept only in the restricted zone (it links the two pseudonyms). Grain: one row per case or person token retired by a key rotation.';
COMMENT ON COLUMN token_rotation_map.token_kind IS 'Kind of token in a rotation map row: case or person.';
COMMENT ON COLUMN token_rotation_map.old_token IS 'A token under the retired key version.';
COMMENT ON COLUMN token_rotation_map.new_token IS 'The same case or person''s token under the new key version.';
COMMENT ON COLUMN token_rotation_map.old_key_version IS 'Key version a rotation retired.';
COMMENT ON COLUMN token_rotation_map.new_key_version IS 'Key version a rotation introduced.';
COMMENT ON COLUMN token_rotation_map.rotated_at IS 'When the key rotation re-tokenised the vault (UTC).';

CREATE TABLE IF NOT EXISTS mart_cases__yearly (
    registration_year BIGINT NOT NULL,
    sex VARCHAR,
    age_band VARCHAR,
    exploitation_type VARCHAR,
    exploitation_region VARCHAR,
    mission_code VARCHAR NOT NULL,
    case_count BIGINT NOT NULL
);
COMMENT ON TABLE mart_cases__yearly IS 'Cases with research consent by year of registration and profile. A case with several types of exploitation is counted once under each, so the rows of a year add up to more than its cases. Unique on every column but case_count (empty = not recorded). Grain: one row per registration year × sex × age band × exploitation type × region of exploitation × mission.';
COMMENT ON COLUMN mart_cases__yearly.registration_year IS 'Year of the registration date (cases before 1999 are out of scope of the facts).';
COMMENT ON COLUMN mart_cases__yearly.sex IS 'Sex as recorded on the screening form.';
COMMENT ON COLUMN mart_cases__yearly.age_band IS 'CTDC age band of the age at identification (0-8, 9-17, 18-20, 21-23, 24-26, 27-29, 30-38, 39-47, 48+).';
COMMENT ON COLUMN mart_cases__yearly.exploitation_type IS 'One type of exploitation (HTCDS); the key of dim_exploitation_types and the element type of exploitation_types.';
COMMENT ON COLUMN mart_cases__yearly.exploitation_region IS 'UN M49 region (Africa, Americas, Asia, Europe, Oceania) of the country of exploitation. In marts empty when the country is not recorded; in pub_* tables also total or not_recorded.';
COMMENT ON COLUMN mart_cases__yearly.mission_code IS 'Code of the mission that sent the export (the first folder under the exports folder), e.g. MD-CHI.';
COMMENT ON COLUMN mart_cases__yearly.case_count IS 'Number of cases of the person in fct_cases (identified as a victim or presumed victim); more than one can mean re-trafficking.';

CREATE TABLE IF NOT EXISTS mart_routes__yearly (
    registration_year BIGINT NOT NULL,
    origin_basis VARCHAR NOT NULL,
    origin_country VARCHAR NOT NULL,
    origin_region VARCHAR,
    origin_sub_region VARCHAR,
    exploitation_country VARCHAR NOT NULL,
    exploitation_region VARCHAR,
    exploitation_sub_region VARCHAR,
    flow_class VARCHAR,
    case_count BIGINT NOT NULL,
    PRIMARY KEY (registration_year, origin_basis, origin_country, exploitation_country)
);
COMMENT ON TABLE mart_routes__yearly IS 'Flows of trafficked persons from a country of origin (citizenship, or country of recruitment) to the country of exploitation, with regions and the UNODC flow class; cases with research consent whose two countries are recorded. Grain: one row per registration year × origin basis × country of origin × country of exploitation.';
COMMENT ON COLUMN mart_routes__yearly.registration_year IS 'Year of the registration date (cases before 1999 are out of scope of the facts).';
COMMENT ON COLUMN mart_routes__yearly.origin_basis IS 'Which country stands for the origin of the route: citizenship (the person''s country of citizenship) or recruitment (the country where the person was recruited).';
COMMENT ON COLUMN mart_routes__yearly.origin_country IS 'Country of origin of the route, ISO 3166-1 alpha-2: the citizenship or the recruitment country, as origin_basis says.';
COMMENT ON COLUMN mart_routes__yearly.origin_region IS 'UN M49 region of the country of origin. In marts empty when the country is not recorded; in pub_* tables (where origin is citizenship) also total or not_recorded.';
COMMENT ON COLUMN mart_routes__yearly.origin_sub_region IS 'UN M49 sub-region of the country of origin.';
COMMENT ON COLUMN mart_routes__yearly.exploitation_country IS 'Country where the person was exploited, ISO 3166-1 alpha-2.';
COMMENT ON COLUMN mart_routes__yearly.exploitation_region IS 'UN M49 region (Africa, Americas, Asia, Europe, Oceania) of the country of exploitation. In marts empty when the country is not recorded; in pub_* tables also total or not_recorded.';
COMMENT ON COLUMN mart_routes__yearly.exploitation_sub_region IS 'UN M49 sub-region of the country of exploitation, e.g. Eastern Europe, South-eastern Asia.';
COMMENT ON COLUMN mart_routes__yearly.flow_class IS 'Reach of the flow as the UNODC Global Report on Trafficking in Persons classes it: domestic (origin and exploitation in the same country), intra_subregional (same UN M49 sub-region), intra_regional (same region, another sub-region) or trans_regional (another region).';
COMMENT ON COLUMN mart_routes__yearly.case_count IS 'Number of cases of the person in fct_cases (identified as a victim or presumed victim); more than one can mean re-trafficking.';

CREATE TABLE IF NOT EXISTS mart_corridors__top (
    corridor_rank BIGINT NOT NULL,
    origin_country VARCHAR NOT NULL,
    origin_region VARCHAR,
    exploitation_country VARCHAR NOT NULL,
    exploitation_region VARCHAR,
    flow_class VARCHAR,
    case_count BIGINT NOT NULL,
    PRIMARY KEY (corridor_rank)
);
COMMENT ON TABLE mart_corridors__top IS 'The corridors with most cases over every registration year, ranked; origin is the country of citizenship. Grain: one row per corridor (country of citizenship → country of exploitation) among the 25 with most cases, all years.';
COMMENT ON COLUMN mart_corridors__top.corridor_rank IS 'Rank of the corridor by number of cases, 1 = most cases (ties broken by country codes).';
COMMENT ON COLUMN mart_corridors__top.origin_country IS 'Country of origin of the route, ISO 3166-1 alpha-2: the citizenship or the recruitment country, as origin_basis says.';
COMMENT ON COLUMN mart_corridors__top.origin_region IS 'UN M49 region of the country of origin. In marts empty when the country is not recorded; in pub_* tables (where origin is citizenship) also total or not_recorded.';
COMMENT ON COLUMN mart_corridors__top.exploitation_country IS 'Country where the person was exploited, ISO 3166-1 alpha-2.';
COMMENT ON COLUMN mart_corridors__top.exploitation_region IS 'UN M49 region (Africa, Americas, Asia, Europe, Oceania) of the country of exploitation. In marts empty when the country is not recorded; in pub_* tables also total or not_recorded.';
COMMENT ON COLUMN mart_corridors__top.flow_class IS 'Reach of the flow as the UNODC Global Report on Trafficking in Persons classes it: domestic (origin and exploitation in the same country), intra_subregional (same UN M49 sub-region), intra_regional (same region, another sub-region) or trans_regional (another region).';
COMMENT ON COLUMN mart_corridors__top.case_count IS 'Number of cases of the person in fct_cases (identified as a victim or presumed victim); more than one can mean re-trafficking.';

CREATE TABLE IF NOT EXISTS mart_transit__yearly (
    registration_year BIGINT NOT NULL,
    transit_country VARCHAR NOT NULL,
    transit_region VARCHAR,
    case_count BIGINT NOT NULL,
    PRIMARY KEY (registration_year, transit_country)
);
COMMENT ON TABLE mart_transit__yearly IS 'Cases (with research consent) whose route crossed the country between recruitment and exploitation, from fct_route_legs; a case with several transit countries counts once in each. Grain: one row per registration year × transit country.';
COMMENT ON COLUMN mart_transit__yearly.registration_year IS 'Year of the registration date (cases before 1999 are out of scope of the facts).';
COMMENT ON COLUMN mart_transit__yearly.transit_country IS 'A country the person crossed between recruitment and exploitation (route stage transit), ISO 3166-1 alpha-2.';
COMMENT ON COLUMN mart_transit__yearly.transit_region IS 'UN M49 region of a transit country. In pub_* tables the region of the first transit country recorded, none (no transit country recorded: a direct route, or not recorded), or total.';
COMMENT ON COLUMN mart_transit__yearly.case_count IS 'Number of cases of the person in fct_cases (identified as a victim or presumed victim); more than one can mean re-trafficking.';

CREATE TABLE IF NOT EXISTS mart_assistance__yearly (
    identification_year BIGINT NOT NULL,
    assistance_type VARCHAR NOT NULL,
    identified_case_count BIGINT NOT NULL,
    assisted_case_count BIGINT NOT NULL,
    coverage_share DOUBLE,
    median_days_to_assistance DOUBLE,
    p90_days_to_assistance DOUBLE,
    PRIMARY KEY (identification_year, assistance_type)
);
COMMENT ON TABLE mart_assistance__yearly IS 'Coverage of assistance by type for the cases identified in the year (with research consent), and the delay from identification to the first episode of the type (median and 90th percentile, days). Grain: one row per identification year × assistance type.';
COMMENT ON COLUMN mart_assistance__yearly.identification_year IS 'Year of the identification date.';
COMMENT ON COLUMN mart_assistance__yearly.assistance_type IS 'Kind of assistance delivered in the episode.';
COMMENT ON COLUMN mart_assistance__yearly.identified_case_count IS 'Cases identified in the year (the denominator of coverage).';
COMMENT ON COLUMN mart_assistance__yearly.assisted_case_count IS 'Cases of the row that received at least one episode of the assistance type, whenever it began.';
COMMENT ON COLUMN mart_assistance__yearly.coverage_share IS 'Share of the cases identified in the year that received the assistance type (assisted_case_count / identified_case_count).';
COMMENT ON COLUMN mart_assistance__yearly.median_days_to_assistance IS 'Median number of days from identification to the start of the case''s first episode of the assistance type (cases with both dates).';
COMMENT ON COLUMN mart_assistance__yearly.p90_days_to_assistance IS '90th percentile of the days from identification to the start of the case''s first episode of the assistance type.';

CREATE TABLE IF NOT EXISTS mart_assistance__coverage_yearly (
    identification_year BIGINT NOT NULL,
    identified_case_count BIGINT NOT NULL,
    assisted_case_count BIGINT NOT NULL,
    coverage_share DOUBLE,
    median_days_to_assistance DOUBLE,
    p90_days_to_assistance DOUBLE,
    PRIMARY KEY (identification_year)
);
COMMENT ON TABLE mart_assistance__coverage_yearly IS 'Coverage of assistance of any type for the cases identified in the year (with research consent) and the delay from identification to the first episode (median and 90th percentile, days) - the headline of mart_assistance__yearly, without the join of two facts. Grain: one row per identification year.';
COMMENT ON COLUMN mart_assistance__coverage_yearly.identification_year IS 'Year of the identification date.';
COMMENT ON COLUMN mart_assistance__coverage_yearly.identified_case_count IS 'Cases identified in the year (the denominator of coverage).';
COMMENT ON COLUMN mart_assistance__coverage_yearly.assisted_case_count IS 'Cases of the row that received at least one episode of the assistance type, whenever it began.';
COMMENT ON COLUMN mart_assistance__coverage_yearly.coverage_share IS 'Share of the cases identified in the year that received the assistance type (assisted_case_count / identified_case_count).';
COMMENT ON COLUMN mart_assistance__coverage_yearly.median_days_to_assistance IS 'Median number of days from identification to the start of the case''s first episode of the assistance type (cases with both dates).';
COMMENT ON COLUMN mart_assistance__coverage_yearly.p90_days_to_assistance IS '90th percentile of the days from identification to the start of the case''s first episode of the assistance type.';

CREATE TABLE IF NOT EXISTS mart_assisted_persons__yearly (
    assistance_year BIGINT NOT NULL,
    assisted_person_count BIGINT NOT NULL,
    gaf_assisted_person_count BIGINT NOT NULL,
    voluntary_return_person_count BIGINT NOT NULL,
    gaf_voluntary_return_person_count BIGINT NOT NULL,
    reintegration_person_count BIGINT NOT NULL,
    PRIMARY KEY (assistance_year)
);
COMMENT ON TABLE mart_assisted_persons__yearly IS 'Persons assisted per year (research consent), those assisted by the Global Assistance Fund (episodes from August 2000), voluntary returns and reintegration. Grain: one row per year in which assistance began.';
COMMENT ON COLUMN mart_assisted_persons__yearly.assistance_year IS 'Calendar year in which the assistance episode began.';
COMMENT ON COLUMN mart_assisted_persons__yearly.assisted_person_count IS 'Persons with at least one assistance episode beginning in the year (a person without a person token counts as one person per case).';
COMMENT ON COLUMN mart_assisted_persons__yearly.gaf_assisted_person_count IS 'Persons with at least one episode funded by the Global Assistance Fund beginning in the year (episodes from 1 August 2000, when GAF was created).';
COMMENT ON COLUMN mart_assisted_persons__yearly.voluntary_return_person_count IS 'Persons with a voluntary return beginning in the year.';
COMMENT ON COLUMN mart_assisted_persons__yearly.gaf_voluntary_return_person_count IS 'Persons with a voluntary return funded by the Global Assistance Fund beginning in the year.';
COMMENT ON COLUMN mart_assisted_persons__yearly.reintegration_person_count IS 'Persons with a reintegration episode beginning in the year.';

CREATE TABLE IF NOT EXISTS mart_reintegration__yearly (
    assistance_year BIGINT NOT NULL,
    reintegration_outcome VARCHAR,
    case_count BIGINT NOT NULL
);
COMMENT ON TABLE mart_reintegration__yearly IS 'Outcome of reintegration (completed, ongoing, dropped out, lost contact; empty = not recorded) by the year the case''s first reintegration episode began; the latest recorded outcome of the case counts. Unique on assistance_year and reintegration_outcome. Grain: one row per year in which reintegration began × reintegration outcome.';
COMMENT ON COLUMN mart_reintegration__yearly.assistance_year IS 'Calendar year in which the assistance episode began.';
COMMENT ON COLUMN mart_reintegration__yearly.reintegration_outcome IS 'Outcome of a reintegration episode.';
COMMENT ON COLUMN mart_reintegration__yearly.case_count IS 'Number of cases of the person in fct_cases (identified as a victim or presumed victim); more than one can mean re-trafficking.';

CREATE TABLE IF NOT EXISTS mart_revictimisation__yearly (
    registration_year BIGINT NOT NULL,
    case_count BIGINT NOT NULL,
    person_count BIGINT NOT NULL,
    revictimised_person_count BIGINT NOT NULL,
    multi_case_person_count BIGINT NOT NULL,
    revictimisation_share DOUBLE,
    PRIMARY KEY (registration_year)
);
COMMENT ON TABLE mart_revictimisation__yearly IS 'Re-victimisation from the linked person tokens - persons registered in the year who had an earlier case, and persons with more than one case in all (cases with research consent). Grain: one row per registration year.';
COMMENT ON COLUMN mart_revictimisation__yearly.registration_year IS 'Year of the registration date (cases before 1999 are out of scope of the facts).';
COMMENT ON COLUMN mart_revictimisation__yearly.case_count IS 'Number of cases of the person in fct_cases (identified as a victim or presumed victim); more than one can mean re-trafficking.';
COMMENT ON COLUMN mart_revictimisation__yearly.person_count IS 'Number of distinct persons counted in the row (by person token; a case without a person token counts as one person). In pub_* tables empty when suppressed.';
COMMENT ON COLUMN mart_revictimisation__yearly.revictimised_person_count IS 'Persons with a case registered in the year who had an earlier registered case (linked by person token, any mission): re-victimisation.';
COMMENT ON COLUMN mart_revictimisation__yearly.multi_case_person_count IS 'Persons with a case registered in the year who have more than one case in all (earlier or later).';
COMMENT ON COLUMN mart_revictimisation__yearly.revictimisation_share IS 'revictimised_person_count / person_count of the year.';

CREATE TABLE IF NOT EXISTS mart_quality__mission_year_field (
    mission_code VARCHAR NOT NULL,
    registration_year BIGINT NOT NULL,
    field_name VARCHAR NOT NULL,
    record_count BIGINT NOT NULL,
    filled_count BIGINT NOT NULL,
    completeness_share DOUBLE NOT NULL,
    PRIMARY KEY (mission_code, registration_year, field_name)
);
COMMENT ON TABLE mart_quality__mission_year_field IS 'Completeness of every optional field of fct_cases and fct_assistance by mission and registration year, all cases (research consent or not) - what the research unit sends back to each mission. Grain: one row per mission × registration year × field of the screening or assistance form.';
COMMENT ON COLUMN mart_quality__mission_year_field.mission_code IS 'Code of the mission that sent the export (the first folder under the exports folder), e.g. MD-CHI.';
COMMENT ON COLUMN mart_quality__mission_year_field.registration_year IS 'Year of the registration date (cases before 1999 are out of scope of the facts).';
COMMENT ON COLUMN mart_quality__mission_year_field.field_name IS 'Canonical field the problem is in (empty when the problem is the whole row).';
COMMENT ON COLUMN mart_quality__mission_year_field.record_count IS 'Records the completeness is measured on: cases for a screening field, assistance episodes for an assistance field.';
COMMENT ON COLUMN mart_quality__mission_year_field.filled_count IS 'Records among record_count in which the field is recorded (not empty; a list field with at least one value).';
COMMENT ON COLUMN mart_quality__mission_year_field.completeness_share IS 'filled_count / record_count: the share of records in which the field is recorded.';

CREATE TABLE IF NOT EXISTS mart_ctdc_comparison__yearly (
    registration_year BIGINT NOT NULL,
    comparison_cut VARCHAR NOT NULL,
    cut_value VARCHAR NOT NULL,
    warehouse_case_count BIGINT NOT NULL,
    ctdc_case_count BIGINT NOT NULL,
    warehouse_share DOUBLE,
    ctdc_share DOUBLE,
    PRIMARY KEY (registration_year, comparison_cut, cut_value)
);
COMMENT ON TABLE mart_ctdc_comparison__yearly IS 'The mission warehouse (cases with research consent) beside the public CTDC global dataset on the cuts both record - sex, CTDC age band, forced labour / sexual exploitation, citizenship, country of exploitation and the corridor between them - as counts and shares of the year. Grain: one row per registration year × comparison cut × value of the cut.';
COMMENT ON COLUMN mart_ctdc_comparison__yearly.registration_year IS 'Year of the registration date (cases before 1999 are out of scope of the facts).';
COMMENT ON COLUMN mart_ctdc_comparison__yearly.comparison_cut IS 'The cut both sources have: total, sex, age_band, exploitation_type (forced_labour and sexual_exploitation only), citizenship, exploitation_country, or corridor (citizenship>exploitation country).';
COMMENT ON COLUMN mart_ctdc_comparison__yearly.cut_value IS 'Value of the cut: a code of its code list, XX>YY for a corridor, all for the total, not_recorded when the source did not record it.';
COMMENT ON COLUMN mart_ctdc_comparison__yearly.warehouse_case_count IS 'Cases of the mission warehouse (with research consent) registered in the year with this value of the cut (0 when none).';
COMMENT ON COLUMN mart_ctdc_comparison__yearly.ctdc_case_count IS 'Records of the public CTDC global dataset registered in the year with this value of the cut (0 when none).';
COMMENT ON COLUMN mart_ctdc_comparison__yearly.warehouse_share IS 'warehouse_case_count / the warehouse''s total of the year (a case with several exploitation types counts once in each).';
COMMENT ON COLUMN mart_ctdc_comparison__yearly.ctdc_share IS 'ctdc_case_count / CTDC''s total of the year.';

CREATE TABLE IF NOT EXISTS pub_release (
    data_vintage DATE NOT NULL,
    disclosure_k BIGINT NOT NULL,
    first_period BIGINT,
    last_period BIGINT,
    released_at TIMESTAMP NOT NULL,
    suppression_method VARCHAR NOT NULL
);
COMMENT ON TABLE pub_release IS 'Data vintage, disclosure threshold and method of the published tables; the charts read their footer from it. Grain: one row per build of the published tables (only the latest is kept).';
COMMENT ON COLUMN pub_release.data_vintage IS 'Date of the latest mission export the published figures include: the data are as received up to that day.';
COMMENT ON COLUMN pub_release.disclosure_k IS 'Disclosure threshold k: no published count is between 1 and k - 1.';
COMMENT ON COLUMN pub_release.first_period IS 'First registration year counted in the published tables.';
COMMENT ON COLUMN pub_release.last_period IS 'Last registration year counted in the published tables.';
COMMENT ON COLUMN pub_release.released_at IS 'When the disclosure-controlled tables were built (UTC).';
COMMENT ON COLUMN pub_release.suppression_method IS 'The disclosure-control method applied, in words (primary and secondary suppression, linked tables).';

CREATE TABLE IF NOT EXISTS pub_cases__type_yearly (
    programme_region VARCHAR NOT NULL,
    programme VARCHAR NOT NULL,
    period VARCHAR NOT NULL,
    exploitation_type_code VARCHAR NOT NULL,
    case_count BIGINT,
    is_suppressed BOOLEAN NOT NULL,
    PRIMARY KEY (programme_region, programme, period, exploitation_type_code)
);
COMMENT ON TABLE pub_cases__type_yearly IS 'Cases with research consent by registration year and type of exploitation, with every margin (total). Counts below k are withheld, and more cells are withheld so that none can be recovered from totals, from the difference of two published slices or from other published tables; cells outside the slices reports read are not published (withheld). Grain: one row per programme region × programme × year (or total) × exploitation type (or total).';
COMMENT ON COLUMN pub_cases__type_yearly.programme_region IS 'UN M49 region of the mission that registered the case (the programme region donors fund), total, or not_recorded.';
COMMENT ON COLUMN pub_cases__type_yearly.programme IS 'Programme slice: gaf (cases eligible for the Global Assistance Fund; for assistance, episodes GAF funded from August 2000), other, or total (both, each person or case once).';
COMMENT ON COLUMN pub_cases__type_yearly.period IS 'The year counted (YYYY: registration year for cases, year the assistance began for assistance) or total for every year of the table.';
COMMENT ON COLUMN pub_cases__type_yearly.exploitation_type_code IS 'Exploitation type code (code list exploitation_type), total (each case once) or not_recorded. A case with several types is counted under each type.';
COMMENT ON COLUMN pub_cases__type_yearly.case_count IS 'Number of cases of the person in fct_cases (identified as a victim or presumed victim); more than one can mean re-trafficking.';
COMMENT ON COLUMN pub_cases__type_yearly.is_suppressed IS 'The count of the cell is withheld (empty) by disclosure control: below the threshold k (primary) or withheld so that another cell cannot be recovered from totals (secondary).';

CREATE TABLE IF NOT EXISTS pub_cases__sex_age (
    programme_region VARCHAR NOT NULL,
    programme VARCHAR NOT NULL,
    period VARCHAR NOT NULL,
    sex_code VARCHAR NOT NULL,
    age_band_code VARCHAR NOT NULL,
    case_count BIGINT,
    is_suppressed BOOLEAN NOT NULL,
    PRIMARY KEY (programme_region, programme, period, sex_code, age_band_code)
);
COMMENT ON TABLE pub_cases__sex_age IS 'Cases with research consent by sex and age band at identification, with every margin; no single years (the pyramid is read for all years or a donor''s span). Only the slices reports read are published; disclosure-controlled like every pub_* table. Grain: one row per programme region × programme × period (all years, or a donor''s span of years) × sex (or total) × age band (or total).';
COMMENT ON COLUMN pub_cases__sex_age.programme_region IS 'UN M49 region of the mission that registered the case (the programme region donors fund), total, or not_recorded.';
COMMENT ON COLUMN pub_cases__sex_age.programme IS 'Programme slice: gaf (cases eligible for the Global Assistance Fund; for assistance, episodes GAF funded from August 2000), other, or total (both, each person or case once).';
COMMENT ON COLUMN pub_cases__sex_age.period IS 'The year counted (YYYY: registration year for cases, year the assistance began for assistance) or total for every year of the table.';
COMMENT ON COLUMN pub_cases__sex_age.sex_code IS 'Sex code (code list sex: female, male, other), total or not_recorded.';
COMMENT ON COLUMN pub_cases__sex_age.age_band_code IS 'CTDC age band at identification (code list age_band), total or not_recorded.';
COMMENT ON COLUMN pub_cases__sex_age.case_count IS 'Number of cases of the person in fct_cases (identified as a victim or presumed victim); more than one can mean re-trafficking.';
COMMENT ON COLUMN pub_cases__sex_age.is_suppressed IS 'The count of the cell is withheld (empty) by disclosure control: below the threshold k (primary) or withheld so that another cell cannot be recovered from totals (secondary).';

CREATE TABLE IF NOT EXISTS pub_routes__regions (
    programme_region VARCHAR NOT NULL,
    programme VARCHAR NOT NULL,
    period VARCHAR NOT NULL,
    origin_region VARCHAR NOT NULL,
    transit_region VARCHAR NOT NULL,
    exploitation_region VARCHAR NOT NULL,
    case_count BIGINT,
    is_suppressed BOOLEAN NOT NULL,
    PRIMARY KEY (programme_region, programme, period, origin_region, transit_region, exploitation_region)
);
COMMENT ON TABLE pub_routes__regions IS 'Routes between regions (origin = citizenship) through the first transit country''s region - origin × transit and transit × exploitation, with their margins; the Sankey of routes is drawn from it. Disclosure-controlled. Grain: one row per programme region × programme × period (all years, or a donor''s span) × region of citizenship × region of first transit × region of exploitation (each or total; citizenship and exploitation never both given).';
COMMENT ON COLUMN pub_routes__regions.programme_region IS 'UN M49 region of the mission that registered the case (the programme region donors fund), total, or not_recorded.';
COMMENT ON COLUMN pub_routes__regions.programme IS 'Programme slice: gaf (cases eligible for the Global Assistance Fund; for assistance, episodes GAF funded from August 2000), other, or total (both, each person or case once).';
COMMENT ON COLUMN pub_routes__regions.period IS 'The year counted (YYYY: registration year for cases, year the assistance began for assistance) or total for every year of the table.';
COMMENT ON COLUMN pub_routes__regions.origin_region IS 'UN M49 region of the country of origin. In marts empty when the country is not recorded; in pub_* tables (where origin is citizenship) also total or not_recorded.';
COMMENT ON COLUMN pub_routes__regions.transit_region IS 'UN M49 region of a transit country. In pub_* tables the region of the first transit country recorded, none (no transit country recorded: a direct route, or not recorded), or total.';
COMMENT ON COLUMN pub_routes__regions.exploitation_region IS 'UN M49 region (Africa, Americas, Asia, Europe, Oceania) of the country of exploitation. In marts empty when the country is not recorded; in pub_* tables also total or not_recorded.';
COMMENT ON COLUMN pub_routes__regions.case_count IS 'Number of cases of the person in fct_cases (identified as a victim or presumed victim); more than one can mean re-trafficking.';
COMMENT ON COLUMN pub_routes__regions.is_suppressed IS 'The count of the cell is withheld (empty) by disclosure control: below the threshold k (primary) or withheld so that another cell cannot be recovered from totals (secondary).';

CREATE TABLE IF NOT EXISTS pub_routes__countries (
    programme_region VARCHAR NOT NULL,
    programme VARCHAR NOT NULL,
    period VARCHAR NOT NULL,
    origin_region VARCHAR NOT NULL,
    origin_country_code VARCHAR NOT NULL,
    exploitation_region VARCHAR NOT NULL,
    exploitation_country_code VARCHAR NOT NULL,
    case_count BIGINT,
    is_suppressed BOOLEAN NOT NULL,
    PRIMARY KEY (programme_region, programme, period, origin_region, origin_country_code, exploitation_region, exploitation_country_code)
);
COMMENT ON TABLE pub_routes__countries IS 'Cases by country of citizenship and country of exploitation with regional subtotals (country total) and every margin; the map of countries of exploitation and the top corridors are drawn from it. Disclosure-controlled, the country-in-region hierarchy included. Grain: one row per programme region × programme × period (all years, or a donor''s span) × region and country of citizenship × region and country of exploitation (each or total).';
COMMENT ON COLUMN pub_routes__countries.programme_region IS 'UN M49 region of the mission that registered the case (the programme region donors fund), total, or not_recorded.';
COMMENT ON COLUMN pub_routes__countries.programme IS 'Programme slice: gaf (cases eligible for the Global Assistance Fund; for assistance, episodes GAF funded from August 2000), other, or total (both, each person or case once).';
COMMENT ON COLUMN pub_routes__countries.period IS 'The year counted (YYYY: registration year for cases, year the assistance began for assistance) or total for every year of the table.';
COMMENT ON COLUMN pub_routes__countries.origin_region IS 'UN M49 region of the country of origin. In marts empty when the country is not recorded; in pub_* tables (where origin is citizenship) also total or not_recorded.';
COMMENT ON COLUMN pub_routes__countries.origin_country_code IS 'Country of citizenship, ISO 3166-1 alpha-2, total (all countries of origin_region) or not_recorded.';
COMMENT ON COLUMN pub_routes__countries.exploitation_region IS 'UN M49 region (Africa, Americas, Asia, Europe, Oceania) of the country of exploitation. In marts empty when the country is not recorded; in pub_* tables also total or not_recorded.';
COMMENT ON COLUMN pub_routes__countries.exploitation_country_code IS 'Country of exploitation, ISO 3166-1 alpha-2, total (all countries of exploitation_region) or not_recorded.';
COMMENT ON COLUMN pub_routes__countries.case_count IS 'Number of cases of the person in fct_cases (identified as a victim or presumed victim); more than one can mean re-trafficking.';
COMMENT ON COLUMN pub_routes__countries.is_suppressed IS 'The count of the cell is withheld (empty) by disclosure control: below the threshold k (primary) or withheld so that another cell cannot be recovered from totals (secondary).';

CREATE TABLE IF NOT EXISTS pub_assistance__type_yearly (
    programme_region VARCHAR NOT NULL,
    programme VARCHAR NOT NULL,
    period VARCHAR NOT NULL,
    assistance_type_code VARCHAR NOT NULL,
    person_count BIGINT,
    is_suppressed BOOLEAN NOT NULL,
    PRIMARY KEY (programme_region, programme, period, assistance_type_code)
);
COMMENT ON TABLE pub_assistance__type_yearly IS 'Persons (research consent) assisted per year by type of assistance; programme gaf counts episodes funded by the Global Assistance Fund from August 2000. A person is counted once per cell. Disclosure-controlled. Grain: one row per programme region × programme × year the assistance began (or total) × assistance type (or total).';
COMMENT ON COLUMN pub_assistance__type_yearly.programme_region IS 'UN M49 region of the mission that registered the case (the programme region donors fund), total, or not_recorded.';
COMMENT ON COLUMN pub_assistance__type_yearly.programme IS 'Programme slice: gaf (cases eligible for the Global Assistance Fund; for assistance, episodes GAF funded from August 2000), other, or total (both, each person or case once).';
COMMENT ON COLUMN pub_assistance__type_yearly.period IS 'The year counted (YYYY: registration year for cases, year the assistance began for assistance) or total for every year of the table.';
COMMENT ON COLUMN pub_assistance__type_yearly.assistance_type_code IS 'Assistance type code (code list assistance_type) or total (each person once).';
COMMENT ON COLUMN pub_assistance__type_yearly.person_count IS 'Number of distinct persons counted in the row (by person token; a case without a person token counts as one person). In pub_* tables empty when suppressed.';
COMMENT ON COLUMN pub_assistance__type_yearly.is_suppressed IS 'The count of the cell is withheld (empty) by disclosure control: below the threshold k (primary) or withheld so that another cell cannot be recovered from totals (secondary).';

CREATE TABLE IF NOT EXISTS pub_quality__mission_year_field (
    mission_code VARCHAR NOT NULL,
    period VARCHAR NOT NULL,
    field_name VARCHAR NOT NULL,
    completeness_pct BIGINT,
    is_suppressed BOOLEAN NOT NULL,
    PRIMARY KEY (mission_code, period, field_name)
);
COMMENT ON TABLE pub_quality__mission_year_field IS 'Completeness of each field by mission in whole percent, for the research unit''s data-quality report; withheld where fewer than k records were measured. It publishes no counts. Grain: one row per mission × registration year (or total) × field.';
COMMENT ON COLUMN pub_quality__mission_year_field.mission_code IS 'Code of the mission that sent the export (the first folder under the exports folder), e.g. MD-CHI.';
COMMENT ON COLUMN pub_quality__mission_year_field.period IS 'The year counted (YYYY: registration year for cases, year the assistance began for assistance) or total for every year of the table.';
COMMENT ON COLUMN pub_quality__mission_year_field.field_name IS 'Canonical field the problem is in (empty when the problem is the whole row).';
COMMENT ON COLUMN pub_quality__mission_year_field.completeness_pct IS 'Share of records in which the field is recorded, in whole percent; empty (suppressed) when fewer than k records were measured.';
COMMENT ON COLUMN pub_quality__mission_year_field.is_suppressed IS 'The count of the cell is withheld (empty) by disclosure control: below the threshold k (primary) or withheld so that another cell cannot be recovered from totals (secondary).';
