module github.com/pghba/pghba

go 1.24
