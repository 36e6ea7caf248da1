package image

import (
	"context"
	"errors"
	"fmt"

	"github.com/berth-project/berth/internal/cli"
	"github.com/distribution/reference"
	"github.com/spf13/cobra"
)

type tagOptions struct {
	source string
	target string
}

func newTagCommand(c *cli.Cli, use string) *cobra.Command {
	var o tagOptions
	cmd := &cobra.Command{
		Use:   use + " SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]",
		Short: "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE",
		Args:  cli.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.source, o.target = args[0], args[1]
			return runTag(cmd.Context(), c, o)
		},
	}
	cli.WithAliases(cmd, "image tag, tag")
	cmd.Flags().SetInterspersed(false)
	return cmd
}

func runTag(ctx context.Context, c *cli.Cli, o tagOptions) error {
	repo, tag, err := ParseTagTarget(o.source, o.target)
	if err != nil {
		return err
	}
	return c.Client().ImageTag(ctx, o.source, repo, tag)
}

// ParseTagTarget checks a tag's source and target references and splits the target into the
// normalized repository name and tag (latest when none is given) the API takes.
func ParseTagTarget(source, target string) (repo, tag string, err error) {
	if _, err := reference.ParseAnyReference(source); err != nil {
		return "", "", fmt.Errorf("Error parsing reference: %q is not a valid repository/tag: %w", source, err)
	}
	ref, err := reference.ParseNormalizedNamed(target)
	if err != nil {
		return "", "", fmt.Errorf("Error parsing reference: %q is not a valid repository/tag: %w", target, err)
	}
	if _, ok := ref.(reference.Canonical); ok {
		return "", "", errors.New("refusing to create a tag with a digest reference")
	}
	ref = reference.TagNameOnly(ref)
	if tagged, ok := ref.(reference.Tagged); ok {
		tag = tagged.Tag()
	}
	return ref.Name(), tag, nil
}
