package taskconfig

import (
	"fmt"

	"gopkg.in/yaml.v3"
)

// UnmarshalYAML accepts a plain string (one image for all) or a mapping
// with cpu and cuda keys.
func (i *Image) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		var s string
		if err := n.Decode(&s); err != nil {
			return err
		}
		i.CPU, i.CUDA = s, s
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("environment.image: must be a string or a mapping with cpu and cuda")
	}
	type plain Image
	var p plain
	if err := n.Decode(&p); err != nil {
		return err
	}
	*i = Image(p)
	return nil
}
