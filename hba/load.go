package hba

// ParseFile reads the pg_hba.conf at path and everything it includes. The
// error is non-nil only when the main file cannot be read at all (PostgreSQL
// then refuses to start); line errors are in File.Errors.
func (p *Parser) ParseFile(path string) (*File, error) {
	panic("not yet")
}

// ParseBytes parses data as the main file named name.
func (p *Parser) ParseBytes(name string, data []byte) *File {
	panic("not yet")
}
