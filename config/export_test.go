package config

// FamilyCatalogue is families.go's catalogue, for the external test that
// keeps it equal to the tables of the packages that write the families
// (some of which import config).
func FamilyCatalogue() (names []string, agent, required map[string]bool) {
	agent, required = map[string]bool{}, map[string]bool{}
	for _, f := range families {
		names = append(names, f.name)
		agent[f.name], required[f.name] = f.agent, f.required
	}
	return names, agent, required
}
