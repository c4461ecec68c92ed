module example.com/plainjobs

go 1.26
