"""Build invocations declared in CI workflows, Bake files and `docker build` command lines."""
