module github.com/skiffdb/skiff

go 1.26.8
