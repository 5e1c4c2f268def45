"""Rules of the build infrastructure: CI workflows, Bake files, the registry cache and the daemon."""
