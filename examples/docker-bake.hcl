# Local builds with `docker buildx bake -f examples/docker-bake.hcl` (run in examples/). The same
# images compose.yaml builds, with the same build args.
group "default" {
  targets = ["whisperx", "infinitetalk"]
}

target "_gpu" {
  platforms = ["linux/amd64"]
}

target "whisperx" {
  inherits = ["_gpu"]
  context  = "whisperx"
  args = {
    BASE = "cuda-base:runtime-12.9"
  }
  tags = ["aicache-example/whisperx:latest"]
}

target "infinitetalk" {
  inherits = ["_gpu"]
  context  = "infinitetalk"
  tags     = ["aicache-example/infinitetalk:latest"]
}
