# A stand-in for the keylime package: just enough (keylime_logging) for
# Keylime's own keylime/ima/file_signatures.py to import.  Not Keylime code.
