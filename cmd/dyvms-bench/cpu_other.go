//go:build !unix

package main

func processCPU() float64    { return 0 }
func childCPU(int) float64   { return 0 }
func loadAverage() []float64 { return nil }
