"""statsmodels' Summary with rule lines of one width.

``summary2.Summary`` pads each table towards the widest one by whole column gaps, so a
header wider than the coefficient table leaves the rules a few characters apart (issue 17:
"even rule lines"). Here every rule is redrawn at the width of the widest table line.
"""

from statsmodels.iolib import summary2


class Summary(summary2.Summary):
    """A ``statsmodels.iolib.summary2.Summary`` whose ``=`` / ``-`` rules share one width."""

    def as_text(self):
        lines = super().as_text().split("\n")
        rules = [i for i, line in enumerate(lines) if line and set(line) <= set("=-")]
        if not rules:
            return "\n".join(lines)
        # the tables span from the first rule to the last; the notes below are wrapped text
        width = max(len(line.rstrip()) for line in lines[rules[0]:rules[-1] + 1])
        for i in rules:
            lines[i] = lines[i][0] * width
        return "\n".join(lines)
