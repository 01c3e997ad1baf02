package northstar

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"unicode"
)

// Tuning of the estimate model. The values were chosen on synthetic
// backlogs (see estimate_test.go) and on the earlier three quarters of
// real Jira projects' issues, predicting the later quarter.
const (
	// SuggestNeighbours is how many similar estimated stories vote on a
	// suggestion. Many weak votes beat a few: real estimates are noisy,
	// and a wide vote leans toward the product's usual size when nothing
	// is really alike.
	SuggestNeighbours = 30
	// medianPrior is the weight of one extra vote for the product's median
	// estimate, which a few close neighbours easily outvote.
	medianPrior = 0.3
	// SuggestReasons is how many of them are shown as the reason.
	SuggestReasons = 3
	// DuplicateSimilarity is the cosine similarity from which two stories'
	// text is flagged as a likely duplicate.
	DuplicateSimilarity = 0.8
	// minVoteSimilarity keeps stories that share only a common word from
	// voting.
	minVoteSimilarity = 0.05
)

// SimilarStory is a story that resembles another, with how much (cosine
// similarity of their text, 0–1).
type SimilarStory struct {
	Ref        string  `json:"ref"`
	Title      string  `json:"title"`
	Points     *int    `json:"points"`
	Similarity float64 `json:"similarity"`
}

// Suggestion basis values say where a suggested estimate comes from.
const (
	BasisSimilar = "similar" // a vote of the most similar estimated stories
	BasisMedian  = "median"  // nothing similar: the product's median estimate
	BasisNone    = "none"    // no estimated stories to learn from
)

// Suggestion is a suggested estimate for a story, learned from the
// product's estimated stories, with its reasons.
type Suggestion struct {
	Points *int   `json:"points"`
	Basis  string `json:"basis"`
	// Similar are the most similar estimated stories, most similar first:
	// the reason for the suggestion.
	Similar []SimilarStory `json:"similar"`
	// Duplicate is the most similar story of all (estimated or not) when
	// its text is close enough to be a likely duplicate.
	Duplicate *SimilarStory `json:"duplicate"`
	// TrainedOn is how many estimated stories the model learned from.
	TrainedOn int `json:"trained_on"`
	// Reason says why, for people: "like BOOK-12 (5), BOOK-40 (5), BOOK-7 (3)".
	Reason string `json:"reason"`
}

func (s *Suggestion) reason() string {
	switch s.Basis {
	case BasisNone:
		return "no estimated stories to learn from yet"
	case BasisMedian:
		return fmt.Sprintf("nothing similar among %d estimated stories: their median", s.TrainedOn)
	}
	parts := make([]string, 0, len(s.Similar))
	for _, m := range s.Similar {
		if m.Points != nil {
			parts = append(parts, fmt.Sprintf("%s (%d)", m.Ref, *m.Points))
		}
	}
	return "like " + strings.Join(parts, ", ")
}

// EstimateModel suggests story points from text: each story becomes a
// TF-IDF vector of the words of its title, template sentence, description
// and criteria, its type and its labels, and a story's suggestion is the
// weighted median of the points of its nearest estimated neighbours by
// cosine similarity. It is immutable once trained and safe for concurrent
// use.
type EstimateModel struct {
	vocab    map[string]int32
	idf      []float32
	docs     []modelDoc
	postings [][]posting // by term: the documents that hold it
	median   int         // index on PointScale of the median estimate
	trained  int         // estimated documents
}

type modelDoc struct {
	id     int64
	ref    string
	title  string
	points int // index on PointScale, -1 for none
}

type posting struct {
	doc int32
	w   float32
}

// termCount is a document's bag of words before weighting.
type termCount map[string]float32

// Field weights: a title says more about a story than a sentence of its
// description.
const (
	weightTitle       = 2
	weightSentence    = 1
	weightDescription = 1
	weightCriterion   = 1
	weightType        = 1.5
	weightLabel       = 1.5
)

// storyTerms is the bag of words of a story.
func storyTerms(s *Story) termCount {
	tc := termCount{}
	addText(tc, s.Title, weightTitle)
	addText(tc, s.Persona+" "+s.Want+" "+s.Benefit, weightSentence)
	addText(tc, s.Description, weightDescription)
	for _, c := range s.Criteria {
		addText(tc, c.Text, weightCriterion)
	}
	if s.Type != "" {
		tc["type:"+string(s.Type)] += weightType
	}
	for _, l := range s.Labels {
		tc["label:"+strings.ToLower(l)] += weightLabel
	}
	return tc
}

func addText(tc termCount, text string, w float32) {
	for _, t := range Tokenize(text) {
		tc[t] += w
	}
}

// stopWords carry no hint of a story's size; the template's own words
// ("as a … I want … so that") are among them.
var stopWords = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`a an and are as at be been but by can could do does for from
		had has have he her his how i if in into is it its me my no not of on or our
		should so such than that the their them then there these they this those to
		was we were what when where which while who will with would you your want wants
		user users able need needs shall also any all some just only very via etc
		www http https com org html`) {
		stopWords[w] = true
	}
}

// Tokenize splits text into lowercase words, dropping stop words, single
// letters, long numbers and markup, and strips common English endings so
// that "books", "booking" and "booked" meet.
func Tokenize(text string) []string {
	var out []string
	start := -1
	lower := strings.ToLower(text)
	flush := func(end int) {
		if start < 0 {
			return
		}
		w := lower[start:end]
		start = -1
		if len(w) < 2 || len(w) > 30 || stopWords[w] {
			return
		}
		if isDigits(w) && len(w) > 4 {
			return
		}
		out = append(out, stem(w))
	}
	for i, r := range lower {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if start < 0 {
				start = i
			}
			continue
		}
		flush(i)
	}
	flush(len(lower))
	return out
}

func isDigits(w string) bool {
	for _, r := range w {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// stem strips a few English endings; crude, but it joins the forms that
// matter for finding similar stories and costs nothing.
func stem(w string) string {
	if len(w) <= 4 {
		return w
	}
	switch {
	case strings.HasSuffix(w, "ies") && len(w) > 5:
		return w[:len(w)-3] + "y"
	case strings.HasSuffix(w, "ing") && len(w) > 6:
		return w[:len(w)-3]
	case strings.HasSuffix(w, "ed") && len(w) > 5:
		return w[:len(w)-2]
	case strings.HasSuffix(w, "es") && len(w) > 5 && strings.ContainsRune("sxz", rune(w[len(w)-3])):
		return w[:len(w)-2]
	case strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss"):
		return w[:len(w)-1]
	}
	return w
}

// TrainEstimateModel builds a model from a product's stories: all of them
// are indexed to find duplicates, and the estimated ones vote on
// suggestions.
func TrainEstimateModel(stories []*Story) *EstimateModel {
	m := &EstimateModel{vocab: map[string]int32{}}
	bags := make([]termCount, len(stories))
	var df []int32
	var estimated []int
	for i, s := range stories {
		bags[i] = storyTerms(s)
		for t := range bags[i] {
			id, ok := m.vocab[t]
			if !ok {
				id = int32(len(df))
				m.vocab[t] = id
				df = append(df, 0)
			}
			df[id]++
		}
		p := -1
		if s.Points != nil {
			p = scaleIndex(*s.Points)
			estimated = append(estimated, p)
		}
		m.docs = append(m.docs, modelDoc{id: s.ID, ref: s.Ref, title: s.Title, points: p})
	}
	n := float64(len(stories))
	m.idf = make([]float32, len(df))
	for t, d := range df {
		m.idf[t] = float32(math.Log((n+1)/(float64(d)+1)) + 1)
	}
	m.postings = make([][]posting, len(df))
	for i, bag := range bags {
		terms, ws := m.vector(bag)
		for k, t := range terms {
			m.postings[t] = append(m.postings[t], posting{doc: int32(i), w: ws[k]})
		}
	}
	m.trained = len(estimated)
	if len(estimated) > 0 {
		slices.Sort(estimated)
		m.median = estimated[(len(estimated)-1)/2]
	}
	return m
}

// vector weights a bag of words by sublinear TF times IDF and normalises it
// to unit length; words the model has never seen are dropped.
func (m *EstimateModel) vector(bag termCount) ([]int32, []float32) {
	terms := make([]int32, 0, len(bag))
	ws := make([]float32, 0, len(bag))
	var norm float64
	for t, c := range bag {
		id, ok := m.vocab[t]
		if !ok {
			continue
		}
		w := (1 + float32(math.Log(float64(c)))) * m.idf[id]
		if c < 1 {
			w = c * m.idf[id]
		}
		terms = append(terms, id)
		ws = append(ws, w)
		norm += float64(w) * float64(w)
	}
	if norm > 0 {
		inv := float32(1 / math.Sqrt(norm))
		for k := range ws {
			ws[k] *= inv
		}
	}
	return terms, ws
}

// TrainedOn returns how many estimated stories the model learned from.
func (m *EstimateModel) TrainedOn() int { return m.trained }

// Median returns the median of the estimates learned from, on the scale,
// or nil when there were none.
func (m *EstimateModel) Median() *int {
	if m.trained == 0 {
		return nil
	}
	p := PointScale[m.median]
	return &p
}

// Size returns how many stories the model indexes.
func (m *EstimateModel) Size() int { return len(m.docs) }

type scored struct {
	doc int32
	sim float32
}

// Suggest suggests points for a story. The story itself (by ID, or by ref
// when it has no ID) never counts as its own neighbour or duplicate, so a
// model trained on the whole product answers for any of its stories.
func (m *EstimateModel) Suggest(s *Story) *Suggestion {
	out := &Suggestion{Basis: BasisNone, Similar: []SimilarStory{}, TrainedOn: m.trained}
	terms, ws := m.vector(storyTerms(s))
	scores := make([]float32, len(m.docs))
	for k, t := range terms {
		w := ws[k]
		for _, p := range m.postings[t] {
			scores[p.doc] += w * p.w
		}
	}
	var best scored
	best.doc = -1
	near := make([]scored, 0, SuggestNeighbours+1)
	for i, sim := range scores {
		if sim <= 0 {
			continue
		}
		d := &m.docs[i]
		if (s.ID != 0 && d.id == s.ID) || (s.ID == 0 && s.Ref != "" && d.ref == s.Ref) {
			continue
		}
		if sim > best.sim {
			best = scored{int32(i), sim}
		}
		if d.points < 0 || sim < minVoteSimilarity {
			continue
		}
		if len(near) == SuggestNeighbours && sim <= near[len(near)-1].sim {
			continue
		}
		at := sort.Search(len(near), func(j int) bool { return near[j].sim < sim })
		near = slices.Insert(near, at, scored{int32(i), sim})
		if len(near) > SuggestNeighbours {
			near = near[:SuggestNeighbours]
		}
	}
	if best.doc >= 0 && float64(best.sim) >= DuplicateSimilarity-1e-6 {
		d := m.similar(best)
		out.Duplicate = &d
	}
	for k := 0; k < len(near) && k < SuggestReasons; k++ {
		out.Similar = append(out.Similar, m.similar(near[k]))
	}
	switch {
	case len(near) > 0:
		out.Basis = BasisSimilar
		p := PointScale[m.vote(near)]
		out.Points = &p
	case m.trained > 0:
		out.Basis = BasisMedian
		p := PointScale[m.median]
		out.Points = &p
	}
	out.Reason = out.reason()
	return out
}

func (m *EstimateModel) similar(s scored) SimilarStory {
	d := &m.docs[s.doc]
	out := SimilarStory{Ref: d.ref, Title: d.title, Similarity: math.Round(float64(s.sim)*1000) / 1000}
	if d.points >= 0 {
		p := PointScale[d.points]
		out.Points = &p
	}
	return out
}

// vote is the similarity-weighted median of the neighbours' places on the
// scale, with one light vote for the product's median: unlike a mean it
// never lands between two camps on a value neither chose, and one far-off
// estimate cannot drag it.
func (m *EstimateModel) vote(near []scored) int {
	var weight [16]float64
	var total float64
	for _, n := range near {
		w := float64(n.sim)
		weight[m.docs[n.doc].points] += w
		total += w
	}
	weight[m.median] += medianPrior
	total += medianPrior
	var acc float64
	for i := range PointScale {
		acc += weight[i]
		if acc >= total/2 {
			return i
		}
	}
	return len(PointScale) - 1
}

// scaleIndex returns the place of p on PointScale, or of the nearest value
// on it for points that are not (imported data).
func scaleIndex(p int) int {
	best, dist := 0, math.MaxInt
	for i, v := range PointScale {
		d := v - p
		if d < 0 {
			d = -d
		}
		if d < dist {
			best, dist = i, d
		}
	}
	return best
}

// ScaleStep returns how many steps of the point scale lie between a and b.
func ScaleStep(a, b int) int {
	d := scaleIndex(a) - scaleIndex(b)
	if d < 0 {
		return -d
	}
	return d
}
