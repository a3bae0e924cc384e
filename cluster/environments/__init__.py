"""The environments: `config/<ENVIRONMENT>.yaml` overlays of the serve config, and the serve
config `tutor up` and `tutor deploy` render from a base, an overlay and the settings."""
