package pgre

import "fmt"

// The parser follows regcomp.c's parse/parsebranch/parseqatom. Instead of
// building PostgreSQL's NFA it builds an expression tree (node) for the
// language of every piece, and the same subexpression tree (subre) with the
// same greediness flags, which decides how captures are dissected.

// Subre flags, as in PostgreSQL's regguts.h.
const (
	sLONGER  = 01
	sSHORTER = 02
	sMIXED   = 04
	sCAP     = 010
	sBACKR   = 020
	sUPPROP  = sMIXED | sCAP | sBACKR
)

func up(f int) int     { return f&sUPPROP | (f<<2)&(f<<1)&sMIXED }
func messy(f int) bool { return f&(sMIXED|sCAP|sBACKR) != 0 }
func pref(f int) int   { return f & (sLONGER | sSHORTER) }
func combine(a, b int) int {
	p := pref(a)
	if p == 0 {
		p = pref(b)
	}
	return up(a|b) | p
}

type nodeOp uint8

const (
	nEmpty  nodeOp = iota
	nSet           // one byte from set
	nCat           // concatenation of kids
	nAlt           // alternation of kids
	nRep           // kids[0] repeated min..max (max == dupInf: unbounded)
	nAssert        // zero-width assertion
	nLook          // lookaround constraint on kids[0]
)

// Assertions.
const (
	aBOS = iota
	aBOL // BOS or after \n
	aEOS
	aEOL // EOS or before \n
	aWordStart
	aWordEnd
	aWordBoundary
	aNotWordBoundary
)

type byteSet [4]uint64

func (s *byteSet) add(c int) {
	if c >= 0 && c < 256 {
		s[c>>6] |= 1 << (uint(c) & 63)
	}
}
func (s *byteSet) has(c byte) bool { return s[c>>6]&(1<<(c&63)) != 0 }
func (s *byteSet) addRange(a, b int) {
	if b > 255 {
		b = 255
	}
	for c := a; c <= b; c++ {
		s.add(c)
	}
}
func (s *byteSet) union(t *byteSet) {
	for i := range s {
		s[i] |= t[i]
	}
}
func (s *byteSet) complement() {
	for i := range s {
		s[i] = ^s[i]
	}
}

type node struct {
	op       nodeOp
	set      byteSet
	kids     []*node
	min, max int
	kind     int // assertion kind or lookaround type
	pos      int // nRep: offset of the quantifier; nAssert: of the constraint
}

var emptyNode = &node{op: nEmpty}

func catNodes(ns ...*node) *node {
	var ks []*node
	for _, n := range ns {
		switch n.op {
		case nEmpty:
		case nCat:
			ks = append(ks, n.kids...)
		default:
			ks = append(ks, n)
		}
	}
	switch len(ks) {
	case 0:
		return emptyNode
	case 1:
		return ks[0]
	}
	return &node{op: nCat, kids: ks}
}

func repNode(n *node, m, max, pos int) *node {
	if m == 1 && max == 1 {
		return n
	}
	if m == 0 && max == 0 {
		return emptyNode
	}
	return &node{op: nRep, kids: []*node{n}, min: m, max: max, pos: pos}
}

// subre is a node of PostgreSQL's subexpression tree.
type subre struct {
	op       byte // '=', '.', '|', '*', '(', 'b'
	flags    int
	capno    int
	backno   int // 'b' nodes: the capture referred to
	min, max int
	kids     []*subre
	expr     *node // language of this subtree
	prog     *prog
	rev      *prog // reversed language, for the right side of a '.' (no back-references)

	building bool    // '=' node of a branch still being parsed
	items    []*node // its pieces so far
}

type parser struct {
	pat       []byte
	now       int
	nexttype  int
	nextvalue int
	lasttype  int
	lexcon    int
	cflags    int
	nsubexp   int
	subs      []*node // subs[n]: language of capture n once parsed completely
	backref   bool
	unsup     *Error
	depth     int
	tokStart  int // offset at which the current token starts
	major     int // PostgreSQL major version whose behaviour to follow
	atoms     int // atoms parsed so far (see maxAtoms)
}

// maxAtoms bounds the atoms (characters, brackets, escapes, groups,
// constraints) of one pattern. Every atom that a {0} bound does not discard
// costs at least one NFA state, so a pattern over this bound would exceed
// maxStates anyway; refusing it as soon as the bound is crossed keeps the
// refusal of a huge pattern (say a 5 MB ***= literal) linear and cheap,
// instead of building a node per byte first. The price: a syntax error after
// the bound is reported as this unsupported construct, not as PostgreSQL's
// error, and patterns whose excess atoms all sit under {0} are refused.
const maxAtoms = 2 * maxStates

const maxDepth = 100

func (p *parser) compile() (re *Regexp, err error) {
	defer func() {
		if r := recover(); r != nil {
			pe, ok := r.(pgError)
			if !ok {
				panic(r)
			}
			re, err = nil, pe.e
		}
	}()
	p.subs = []*node{nil}
	p.lexstart()
	tree := p.parse(tEOS, false)
	if p.unsup != nil {
		return nil, p.unsup
	}
	if n := constraintWeight(tree.expr); n > maxConstraintWeight {
		p.unsupported(firstConstraint(tree.expr), fmt.Sprintf("constraints (^ $ \\A \\Z \\m \\M \\y \\Y lookaround) of total weight %d after expanding repetitions; PostgreSQL's compile time and complexity limit grow exponentially with them, so at most %d are accepted", n, maxConstraintWeight))
	}
	re = &Regexp{
		backref: p.backref,
		expr:    string(p.pat),
		nsub:    p.nsubexp,
		tree:    tree,
		shorter: tree.flags&sSHORTER != 0,
	}
	re.search = compileProg(tree.expr)
	if !p.backref {
		re.rev = compileProg(reverseNode(tree.expr))
	}
	re.icase = p.cflags&fICASE != 0
	if p.nsubexp > 0 || p.backref {
		prepareTree(tree, !p.backref)
	}
	return re, nil
}

// prepareTree compiles every node's language for dissection, and with
// reversed, the reversed language of the right side of every concatenation
// (see split).
func prepareTree(t *subre, reversed bool) {
	t.prog = compileProg(t.expr)
	if reversed && t.op == '.' {
		t.kids[1].rev = compileProg(reverseNode(t.kids[1].expr))
	}
	for _, k := range t.kids {
		prepareTree(k, reversed)
	}
}

func (p *parser) parse(stopper int, lacon bool) *subre {
	p.depth++
	if p.depth > maxDepth {
		p.unsupported(p.tokStart, "parentheses nested more than 100 deep")
	}
	defer func() { p.depth-- }()
	flags := sLONGER
	var branches []*subre
	for {
		b := p.parsebranch(stopper, lacon, false)
		branches = append(branches, b)
		flags |= up(flags | b.flags)
		if !p.eat('|') {
			break
		}
	}
	if !p.see(stopper) {
		p.fail(msgParen)
	}
	if len(branches) == 1 {
		return branches[0]
	}
	exprs := make([]*node, len(branches))
	for i, b := range branches {
		exprs[i] = b.expr
	}
	alt := &node{op: nAlt, kids: exprs}
	if !messy(flags) {
		return &subre{op: '=', flags: flags, expr: alt}
	}
	return &subre{op: '|', flags: flags, kids: branches, expr: alt}
}

func (p *parser) parsebranch(stopper int, lacon, partial bool) *subre {
	t := &subre{op: '=', building: true}
	seen := false
	for !p.see('|') && !p.see(stopper) && !p.see(tEOS) {
		first := !seen
		seen = true
		t = p.parseqatom(stopper, lacon, t, first)
	}
	if t.building {
		t.building = false
		t.expr = catNodes(t.items...)
		t.items = nil
	}
	return t
}

func (p *parser) item(top *subre, n *node) *subre {
	top.items = append(top.items, n)
	return top
}

// parseqatom parses one quantified atom. It mirrors parseqatom() in
// PostgreSQL's src/backend/regex/regcomp.c, case for case, so that the
// same pattern builds the same automaton; it is kept as one function, like
// the C it follows.
func (p *parser) parseqatom(stopper int, lacon bool, top *subre, first bool) *subre {
	var atom *subre
	var atomExpr *node
	atomtype := p.nexttype
	atomPos := p.tokStart
	p.atoms++
	if p.atoms > maxAtoms {
		p.unsupported(atomPos, fmt.Sprintf("pattern has more than %d atoms (too large to verify against PostgreSQL's complexity limit)", maxAtoms))
	}
	switch atomtype {
	case '^':
		p.next()
		if p.cflags&fNLANCH != 0 {
			return p.item(top, &node{op: nAssert, kind: aBOL, pos: atomPos})
		}
		return p.item(top, &node{op: nAssert, kind: aBOS, pos: atomPos})
	case '$':
		p.next()
		if p.cflags&fNLANCH != 0 {
			return p.item(top, &node{op: nAssert, kind: aEOL, pos: atomPos})
		}
		return p.item(top, &node{op: nAssert, kind: aEOS, pos: atomPos})
	case tSBEGIN:
		p.next()
		return p.item(top, &node{op: nAssert, kind: aBOS, pos: atomPos})
	case tSEND:
		p.next()
		return p.item(top, &node{op: nAssert, kind: aEOS, pos: atomPos})
	case '<':
		p.next()
		return p.item(top, &node{op: nAssert, kind: aWordStart, pos: atomPos})
	case '>':
		p.next()
		return p.item(top, &node{op: nAssert, kind: aWordEnd, pos: atomPos})
	case tWBDRY:
		p.next()
		return p.item(top, &node{op: nAssert, kind: aWordBoundary, pos: atomPos})
	case tNWBDRY:
		p.next()
		return p.item(top, &node{op: nAssert, kind: aNotWordBoundary, pos: atomPos})
	case tLACON:
		latype := p.nextvalue
		p.next()
		sub := p.parse(')', true)
		p.next()
		return p.item(top, &node{op: nLook, kind: latype, kids: []*node{sub.expr}, pos: atomPos})
	case '*', '+', '?', '{':
		p.fail(msgBadRpt)
	case ')':
		if p.cflags&fADVANCED != fEXTENDED {
			p.fail(msgParen)
		}
		// plain ERE: an unmatched ) is an ordinary character
		atomExpr = p.onechr(')')
		p.next()
	case tPLAIN:
		atomExpr = p.onechr(p.nextvalue)
		p.next()
	case '[':
		atomExpr = p.bracket(p.nextvalue == 0)
		p.next()
	case tCCLASSS:
		n := &node{op: nSet}
		p.charclass(&n.set, p.nextvalue)
		atomExpr = n
		p.next()
	case tCCLASSC:
		n := &node{op: nSet}
		p.charclass(&n.set, p.nextvalue)
		n.set.complement()
		if p.major == 13 && p.cflags&fNLSTOP != 0 {
			// 13 expands \D, \S, \W to a negated bracket, which
			// excludes newline under (?n) and (?p)
			n.set[0] &^= 1 << '\n'
		}
		atomExpr = n
		p.next()
	case '.':
		n := &node{op: nSet}
		n.set.complement()
		if p.cflags&fNLSTOP != 0 {
			n.set[0] &^= 1 << '\n'
		}
		atomExpr = n
		p.next()
	case '(':
		capture := !lacon && p.nextvalue != 0
		subno := 0
		if capture {
			p.nsubexp++
			subno = p.nsubexp
			p.subs = append(p.subs, nil)
		} else {
			atomtype = tPLAIN
		}
		p.next()
		atom = p.parse(')', lacon)
		p.next()
		if capture {
			if atom.capno == 0 {
				atom.flags |= sCAP
				atom.capno = subno
			} else {
				atom = &subre{op: '(', flags: atom.flags | sCAP, capno: subno, kids: []*subre{atom}, expr: atom.expr}
			}
			p.subs[subno] = atom.expr
		}
		atomExpr = atom.expr
	case tBACKREF:
		if lacon {
			p.fail(msgSubReg)
		}
		subno := p.nextvalue
		if subno >= len(p.subs) || p.subs[subno] == nil {
			p.fail(msgSubReg)
		}
		if p.major == 13 {
			p.noteUnsupported(p.tokStart, "back-reference (PostgreSQL 13 verifies matches with back-references by an older algorithm, not reproduced here)")
		}
		p.backref = true
		atom = &subre{op: 'b', flags: sBACKR, backno: subno}
		atomExpr = withoutConstraints(p.subs[subno])
		p.next()
	default:
		p.fail(msgAssert)
	}

	// quantifier
	m, n, qprefer := 1, 1, 0
	qpos := p.tokStart
	switch p.nexttype {
	case '*', '+', '?':
		switch p.nexttype {
		case '*':
			m, n = 0, dupInf
		case '+':
			m, n = 1, dupInf
		case '?':
			m, n = 0, 1
		}
		qprefer = sSHORTER
		if p.nextvalue != 0 {
			qprefer = sLONGER
		}
		p.next()
	case '{':
		p.next()
		m = p.scannum()
		if p.eat(',') {
			if p.see(tDIGIT) {
				n = p.scannum()
			} else {
				n = dupInf
			}
			if m > n {
				p.fail(msgBadBR)
			}
			qprefer = sSHORTER
			if p.nextvalue != 0 {
				qprefer = sLONGER
			}
		} else {
			n = m
		}
		if !p.see('}') {
			p.fail(msgBadBR)
		}
		p.next()
	}

	if m == 0 && n == 0 {
		return p.item(top, emptyNode)
	}
	f := top.flags | qprefer
	if atom != nil {
		f |= atom.flags
	}
	if atomtype != '(' && atomtype != tBACKREF && !messy(up(f)) {
		top.flags = f
		return p.item(top, repNode(atomExpr, m, n, qpos))
	}
	// hard part: something messy
	if atom == nil {
		atom = &subre{op: '=', expr: atomExpr}
	}
	tflags := combine(qprefer, atom.flags)
	var a2 *subre
	lsm := atom.flags & (sLONGER | sSHORTER | sMIXED)
	switch {
	case atomtype == tBACKREF:
		// back-references carry their own repetition counts
		atom.min, atom.max = m, n
		atom.flags |= tflags
		atom.expr = repNode(atomExpr, m, n, qpos)
		a2 = atom
	case m == 1 && n == 1 && (qprefer == 0 || lsm == 0 || qprefer == lsm):
		a2 = atom
	case atom.flags&(sCAP|sBACKR) == 0:
		a2 = &subre{op: '=', flags: tflags, expr: repNode(atom.expr, m, n, qpos)}
	case m > 0 && atom.flags&sBACKR == 0:
		n1 := n
		if n != dupInf {
			n1 = n - 1
		}
		pre := &subre{op: '=', flags: pref(tflags), expr: repNode(atom.expr, m-1, n1, qpos)}
		a2 = &subre{op: '.', flags: tflags, kids: []*subre{pre, atom}, expr: catNodes(pre.expr, atom.expr)}
	default:
		a2 = &subre{op: '*', flags: tflags, min: m, max: n, kids: []*subre{atom}, expr: repNode(atom.expr, m, n, qpos)}
	}

	prefix := &subre{op: '=', flags: top.flags, expr: catNodes(top.items...)}
	if !(p.see('|') || p.see(stopper) || p.see(tEOS)) {
		rest := p.parsebranch(stopper, lacon, true)
		tf := tflags | combine(tflags, rest.flags)
		topf := top.flags | combine(top.flags, tf)
		if first {
			return &subre{op: '.', flags: topf, kids: []*subre{a2, rest}, expr: catNodes(a2.expr, rest.expr)}
		}
		var t *subre
		if a2.op == '=' && rest.op == '=' && !messy(up(a2.flags|rest.flags)) {
			t = &subre{op: '=', flags: combine(a2.flags, rest.flags), expr: catNodes(a2.expr, rest.expr)}
		} else {
			t = &subre{op: '.', flags: tf, kids: []*subre{a2, rest}, expr: catNodes(a2.expr, rest.expr)}
		}
		return &subre{op: '.', flags: topf, kids: []*subre{prefix, t}, expr: catNodes(prefix.expr, t.expr)}
	}
	topf := top.flags | combine(top.flags, a2.flags)
	if first {
		return a2
	}
	return &subre{op: '.', flags: topf, kids: []*subre{prefix, a2}, expr: catNodes(prefix.expr, a2.expr)}
}

func (p *parser) scannum() int {
	n := 0
	for p.see(tDIGIT) && n < dupMax {
		n = n*10 + p.nextvalue
		p.next()
	}
	if p.see(tDIGIT) || n > dupMax {
		p.fail(msgBadBR)
	}
	return n
}

// Character properties in the C locale: only ASCII has them.

func toLower(c int) int {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func toUpper(c int) int {
	if 'a' <= c && c <= 'z' {
		return c - ('a' - 'A')
	}
	return c
}

func isWordByte(c byte) bool {
	return isAlpha(c) || isDigit(c) || c == '_'
}

func (p *parser) onechr(c int) *node {
	n := &node{op: nSet}
	p.addchr(&n.set, c)
	return n
}

// addchr adds c to s, with its other case under (?i).
func (p *parser) addchr(s *byteSet, c int) {
	s.add(c)
	if p.cflags&fICASE != 0 {
		s.add(toLower(c))
		s.add(toUpper(c))
	}
}

func (p *parser) charclass(s *byteSet, cls int) {
	if p.cflags&fICASE != 0 && (cls == ccLower || cls == ccUpper) {
		cls = ccAlpha
	}
	for c := 0; c < 256; c++ {
		b := byte(c)
		var in bool
		switch cls {
		case ccAlnum:
			in = isAlpha(b) || isDigit(b)
		case ccAlpha:
			in = isAlpha(b)
		case ccASCII:
			in = c <= 0x7f
		case ccBlank:
			in = b == ' ' || b == '\t'
		case ccCntrl:
			in = c <= 0x1f || 0x7f <= c && c <= 0x9f
		case ccDigit:
			in = isDigit(b)
		case ccGraph:
			in = 0x21 <= c && c <= 0x7e
		case ccLower:
			in = 'a' <= c && c <= 'z'
		case ccPrint:
			in = 0x20 <= c && c <= 0x7e
		case ccPunct:
			in = 0x21 <= c && c <= 0x7e && !isAlpha(b) && !isDigit(b)
		case ccSpace:
			in = isSpace(b)
		case ccUpper:
			in = 'A' <= c && c <= 'Z'
		case ccXdigit:
			in = isDigit(b) || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
		case ccWord:
			in = isWordByte(b)
		}
		if in {
			s.add(c)
		}
	}
}

// bracket parses a bracket expression; the current token is '['.
func (p *parser) bracket(negated bool) *node {
	n := &node{op: nSet}
	var haveC [numClasses]bool
	p.next()
	for !p.see(']') && !p.see(tEOS) {
		p.brackpart(&n.set, &haveC)
	}
	for cls, ok := range haveC {
		if ok {
			var s byteSet
			p.charclass(&s, cls)
			s.complement()
			n.set.union(&s)
		}
	}
	if negated {
		if p.cflags&fNLSTOP != 0 {
			n.set.add('\n')
		}
		n.set.complement()
	}
	return n
}

func (p *parser) brackpart(s *byteSet, haveC *[numClasses]bool) {
	var startc, endc int
	partStart := p.tokStart
	switch p.nexttype {
	case tRANGE:
		p.fail(msgRange)
	case tPLAIN:
		startc = p.nextvalue
		p.next()
		if !p.see(tRANGE) {
			p.addchr(s, startc)
			return
		}
	case tCOLLEL:
		startp := p.now
		endp := p.scanplain()
		startc = p.element(startp, endp)
	case tECLASS:
		startp := p.now
		endp := p.scanplain()
		c := p.element(startp, endp)
		p.addchr(s, c)
		return
	case tCCLASS:
		startp := p.now
		endp := p.scanplain()
		cls := -1
		for i, name := range classNames {
			if name == string(p.pat[startp:endp]) && (i != ccWord || p.major != 13) {
				cls = i // [[:word:]]: PostgreSQL 14+
			}
		}
		if cls < 0 {
			p.failAt(startp-2, msgCType)
		}
		p.charclass(s, cls)
		return
	case tCCLASSS:
		p.charclass(s, p.nextvalue)
		p.next()
		return
	case tCCLASSC:
		haveC[p.nextvalue] = true
		p.next()
		return
	default:
		p.fail(msgAssert)
	}
	if p.see(tRANGE) {
		p.next()
		switch p.nexttype {
		case tPLAIN, tRANGE:
			endc = p.nextvalue
			p.next()
		case tCOLLEL:
			startp := p.now
			endp := p.scanplain()
			endc = p.element(startp, endp)
		default:
			p.fail(msgRange)
		}
	} else {
		endc = startc
	}
	if startc != endc && startc > endc {
		p.failAt(partStart, msgRange)
	}
	icase := p.cflags&fICASE != 0
	for c := startc; c <= endc && c <= 255; c++ {
		s.add(c)
		if icase {
			s.add(toLower(c))
			s.add(toUpper(c))
		}
	}
}

// scanplain skips the body of [. .], [= =] or [: :] and returns the end of
// the name, exactly as PostgreSQL computes it.
func (p *parser) scanplain() int {
	p.next()
	endp := p.now
	for p.see(tPLAIN) {
		endp = p.now
		p.next()
	}
	p.next()
	return endp
}

func (p *parser) element(startp, endp int) int {
	if endp-startp == 1 {
		return int(p.pat[startp])
	}
	name := string(p.pat[startp:endp])
	if c, ok := charNames[name]; ok {
		return c
	}
	p.failAt(startp-2, msgCollate)
	return 0
}

// maxConstraintWeight bounds the constraints of a pattern, counted after
// expanding bounded repetitions: 1 for ^ $ \A \Z \m \M [[:<:]] [[:>:]] and
// each lookaround, 2 for \y and \Y (two alternative paths each). PostgreSQL
// pushes constraints through its NFA when compiling, which can grow
// exponentially: (?:a?\y){17} is "regular expression is too complex", some
// shapes take minutes, and mixtures of \m, \y and lookbehind failed with a
// weight of 15. Which shapes fail cannot be predicted without PostgreSQL's NFA
// optimiser, so heavier patterns are refused as unsupported.
const maxConstraintWeight = 8

func constraintWeight(n *node) int {
	switch n.op {
	case nAssert:
		if n.kind == aWordBoundary || n.kind == aNotWordBoundary {
			return 2
		}
		return 1
	case nLook:
		return 1 + constraintWeight(n.kids[0])
	case nRep:
		copies := n.max
		if n.max >= dupInf {
			copies = max(n.min, 1)
		}
		return copies * constraintWeight(n.kids[0])
	case nCat, nAlt:
		c := 0
		for _, k := range n.kids {
			c += constraintWeight(k)
		}
		return c
	}
	return 0
}

// firstConstraint returns the offset of the first constraint in n, or -1.
func firstConstraint(n *node) int {
	if n.op == nAssert || n.op == nLook {
		return n.pos
	}
	for _, k := range n.kids {
		if p := firstConstraint(k); p >= 0 {
			return p
		}
	}
	return -1
}

// withoutConstraints returns n with every assertion and lookaround replaced
// by the empty string, as PostgreSQL's removeconstraints does for the
// automaton approximating a back-reference.
func withoutConstraints(n *node) *node {
	switch n.op {
	case nAssert, nLook:
		return emptyNode
	case nCat, nAlt, nRep:
		c := *n
		c.kids = make([]*node, len(n.kids))
		for i, k := range n.kids {
			c.kids[i] = withoutConstraints(k)
		}
		return &c
	}
	return n
}
