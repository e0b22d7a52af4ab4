package pgre

import "testing"

func BenchmarkMatchStringSimple(b *testing.B) {
	re := MustCompile(`^db[0-9]+$`)
	b.ReportAllocs()
	for b.Loop() {
		if !re.MatchString("db12345") {
			b.Fatal("no match")
		}
	}
}

func BenchmarkMatchStringUnanchored(b *testing.B) {
	re := MustCompile(`admin`)
	b.ReportAllocs()
	for b.Loop() {
		if re.MatchString("some_long_user_name") {
			b.Fatal("match")
		}
	}
}

func BenchmarkFindSubmatchIndex(b *testing.B) {
	re := MustCompile(`^(.*)@example\.com$`)
	b.ReportAllocs()
	for b.Loop() {
		if re.FindSubmatchIndex("alice@example.com") == nil {
			b.Fatal("no match")
		}
	}
}
