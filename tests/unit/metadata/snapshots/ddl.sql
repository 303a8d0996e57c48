CREATE TABLE IF NOT EXISTS raw_screenings (
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
    date_of_birth VARCHAR,
    age_reported VARCHAR,
    sex VARCHAR,
    citizenship VARCHAR,
    document_number VARCHAR,
    phone VARCHAR,
    address VARCHAR,
    narrative VARCHAR,
    interviewer_name VARCHAR,
    registration_date VARCHAR NOT NULL,
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
    has_research_consent VARCHAR,
    PRIMARY KEY (source_file, source_row)
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
    case_ref VARCHAR NOT NULL,
    assistance_type VARCHAR NOT NULL,
    assistance_start_date VARCHAR,
    assistance_end_date VARCHAR,
    provider_name VARCHAR,
    funding_source VARCHAR,
    reintegration_outcome VARCHAR,
    return_country VARCHAR,
    PRIMARY KEY (source_file, source_row)
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
    mission_code VARCHAR NOT NULL,
    received_date DATE NOT NULL,
    era VARCHAR NOT NULL,
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
    received_date DATE NOT NULL,
    PRIMARY KEY (source_file, source_row)
);
COMMENT ON TABLE stg_screenings IS 'Screening interviews parsed, normalised to code lists, validated and pseudonymised. Grain: one row per valid screening record of an export (pseudonymous, typed).';
COMMENT ON COLUMN stg_screenings.case_token IS 'Keyed pseudonym (HMAC-SHA256) of the case: mission code and case number. Stable across exports and eras.';
COMMENT ON COLUMN stg_screenings.person_token IS 'Keyed pseudonym of the person (normalised name and date of birth or birth year), linked across missions.';
COMMENT ON COLUMN stg_screenings.key_version IS 'Version of the pseudonymisation key that produced the tokens of this row.';
COMMENT ON COLUMN stg_screenings.mission_code IS 'Code of the mission that sent the export (the first folder under the exports folder), e.g. MD-CHI.';
COMMENT ON COLUMN stg_screenings.registration_date IS 'Date the case was registered by the mission.';
COMMENT ON COLUMN stg_screenings.registration_year IS 'Year of the registration date.';
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
    received_date DATE NOT NULL,
    PRIMARY KEY (source_file, source_row)
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
COMMENT ON COLUMN ref_ctdc_cases.registration_year IS 'Year of the registration date.';
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
