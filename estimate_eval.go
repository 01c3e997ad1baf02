package northstar

import (
	"math"
	"slices"
)

// EstimateMetrics measures estimates against the actual points: the mean
// and median absolute error, and the standardised accuracy (SA) of
// Choetkiertikul et al. (IEEE TSE 2018): how much better than random
// guessing, in percent (0 is no better, 100 is perfect).
type EstimateMetrics struct {
	N    int     `json:"n"`
	MAE  float64 `json:"mae"`
	MdAE float64 `json:"mdae"`
	SA   float64 `json:"sa"`
}

// EvaluateEstimates compares predictions with the actual values, pairwise.
// Random guessing predicts each case by another case's actual value picked
// at random; its MAE is computed exactly (the mean over every ordered pair
// of distinct cases) rather than by sampling, so SA is the same on every
// run.
func EvaluateEstimates(actual, predicted []float64) EstimateMetrics {
	n := min(len(actual), len(predicted))
	m := EstimateMetrics{N: n}
	if n == 0 {
		return m
	}
	errs := make([]float64, n)
	for i := range n {
		errs[i] = math.Abs(actual[i] - predicted[i])
		m.MAE += errs[i]
	}
	m.MAE /= float64(n)
	slices.Sort(errs)
	if n%2 == 1 {
		m.MdAE = errs[n/2]
	} else {
		m.MdAE = (errs[n/2-1] + errs[n/2]) / 2
	}
	if p0 := randomGuessMAE(actual[:n]); p0 > 0 {
		m.SA = (1 - m.MAE/p0) * 100
	}
	return m
}

// randomGuessMAE is the expected MAE of guessing each case by one of the
// others: the mean |a−b| over ordered pairs of distinct cases. Sorting
// makes it O(n log n): the k-th smallest value is above k others.
func randomGuessMAE(values []float64) float64 {
	n := len(values)
	if n < 2 {
		return 0
	}
	v := slices.Clone(values)
	slices.Sort(v)
	var sum float64
	for k, x := range v {
		sum += x * float64(2*k-(n-1))
	}
	// sum is Σ over unordered pairs; ordered pairs count each twice.
	return 2 * sum / float64(n*(n-1))
}
