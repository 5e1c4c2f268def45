"""The Docker daemon's and BuildKit's configuration as a repository keeps it: `daemon.json`,
`buildkitd.toml`, the scripts that write a `daemon.json`, the registry mirrors they name and the
pull-through caches those can point at. The 5xx daemon rules read this package; nothing here
loads unless such a file is linted."""
