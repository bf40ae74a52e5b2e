"""The register of directive documents the department advised on."""
