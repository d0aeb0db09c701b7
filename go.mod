module metalearn

go 1.26.8
