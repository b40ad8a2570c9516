"""Media: FFmpeg graphs as data, a runner with deadlines, probing, thumbnails."""
