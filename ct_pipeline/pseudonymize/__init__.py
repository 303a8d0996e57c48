"""Pseudonymisation at the staging boundary: keyed tokens, generalisation, key management, the
identity vault, cross-mission person linkage and the restricted zone on disk.

    key = load_key()                                  # CT_PSEUDONYM_KEY or the key file, else MissingKeyError
    out = pseudonymize(typed_screenings, typed_assistance, key, prior_identities=prior)
    out.stg_screenings, out.stg_assistance            # analyst zone (validated against the registry)
    store_identities(con, out.identities, key)        # restricted zone: sealed identities

See keys.py, tokens.py, linkage.py, vault.py, rotation.py, restricted.py for the details.
"""

from ct_pipeline.pseudonymize.keys import (
    DEMO_KEY_NOTICE,
    ENV_VAR,
    KeyFileError,
    MissingKeyError,
    PseudonymKey,
    demo_key,
    generate_key,
    init_key,
    load_key,
    next_version,
    read_key_file,
    write_key_file,
)
from ct_pipeline.pseudonymize.linkage import LinkageModel, link_persons
from ct_pipeline.pseudonymize.quality import LinkageQuality, measure_linkage
from ct_pipeline.pseudonymize.restricted import (
    ensure_restricted_dir,
    harden_process,
    permission_problems,
    restricted_connection,
    tighten_files,
    write_restricted_file,
)
from ct_pipeline.pseudonymize.rotation import (
    RotationReport,
    apply_token_map,
    retokenize_table_sql,
    retokenize_vault,
    rotate_key,
    token_map,
)
from ct_pipeline.pseudonymize.tokens import (
    Pseudonymized,
    case_token,
    identities_frame,
    identity_token,
    pseudonymize,
)
from ct_pipeline.pseudonymize.vault import (
    ReasonError,
    VaultError,
    audit_log,
    ensure_vault_tables,
    load_identities,
    store_identities,
    update_person_tokens,
    vault_lookup,
    verify_audit_log,
)

__all__ = [
    "DEMO_KEY_NOTICE", "ENV_VAR", "KeyFileError", "LinkageModel", "LinkageQuality", "MissingKeyError",
    "PseudonymKey", "Pseudonymized", "ReasonError", "RotationReport", "VaultError", "apply_token_map",
    "audit_log", "case_token", "demo_key", "ensure_restricted_dir", "ensure_vault_tables", "generate_key",
    "harden_process", "identities_frame", "identity_token", "init_key", "link_persons", "load_identities",
    "load_key", "measure_linkage", "next_version", "permission_problems", "pseudonymize", "read_key_file",
    "restricted_connection", "retokenize_table_sql", "retokenize_vault", "rotate_key", "store_identities",
    "tighten_files", "token_map", "update_person_tokens", "vault_lookup", "verify_audit_log",
    "write_key_file", "write_restricted_file",
]  # fmt: skip
