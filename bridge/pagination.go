package bridge

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/det-slurm/bridge/api"
)

// paginate returns the part of a list of total items that offset and
// limit select, as Determined's list routes do: limit 0 is no limit, a
// negative offset counts from the end.
func paginate(total, offset, limit int) api.Pagination {
	start := offset
	if offset < 0 {
		start = max(0, total+offset)
	}
	start = min(start, total)
	end := total
	if limit > 0 {
		end = min(total, start+limit)
	}
	return api.Pagination{Offset: offset, Limit: limit, StartIndex: start, EndIndex: end, Total: total}
}

// pageParams reads the offset and limit query parameters of a list
// route; a malformed one is answered with 400 and ok false.
func pageParams(w http.ResponseWriter, q url.Values) (offset, limit int, ok bool) {
	offset, err := queryInt(q, "offset")
	if err == nil {
		limit, err = queryInt(q, "limit")
	}
	if err == nil && limit < 0 {
		err = fmt.Errorf("limit: %d is negative", limit)
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return 0, 0, false
	}
	return offset, limit, true
}

// queryInt reads an integer query parameter; absent or empty is 0.
func queryInt(q url.Values, name string) (int, error) {
	v := q.Get(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("%s: %q is not an integer", name, v)
	}
	return n, nil
}

// queryBool reads a boolean query parameter ("true" or "false", as
// Determined's client sends them; "1" and "0" too); absent is false.
func queryBool(q url.Values, name string) (bool, error) {
	switch v := q.Get(name); v {
	case "", "false", "0":
		return false, nil
	case "true", "1":
		return true, nil
	default:
		return false, fmt.Errorf("%s: %q is not true or false", name, v)
	}
}
