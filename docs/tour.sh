#!/usr/bin/env bash
# The five-minute tour of README.md (kept identical to it by tests/test_tour.py). Needs curl and jq.
set -euo pipefail
API=${API:-http://127.0.0.1:8000/api/v1}
TOKEN=$(.venv/bin/tochuc token --sub tour --role admin)
post() { curl -sf -X POST "$API/$1" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d "$2"; }
get() { curl -sf "$API/$1" -H "Authorization: Bearer $TOKEN"; }
S=${TOUR_SUFFIX:-$RANDOM}

# 1. A province, two committees under it, a grassroots committee and a cell.
NA=$(post organizations '{"code":"TOUR'$S'","name":"Đảng bộ tỉnh Nghệ An","level":"province","kind":"other","established_on":"2020-01-01"}' | jq -r .id)
HN=$(post organizations '{"code":"TOUR'$S'.HN","name":"Đảng bộ huyện Hưng Nguyên","level":"upper_grassroots","kind":"agency","parent_id":"'$NA'","established_on":"2020-01-01"}' | jq -r .id)
VINH=$(post organizations '{"code":"TOUR'$S'.VINH","name":"Đảng bộ thành phố Vinh","level":"upper_grassroots","kind":"agency","parent_id":"'$NA'","established_on":"2020-01-01"}' | jq -r .id)
XA=$(post organizations '{"code":"TOUR'$S'.HN.HD","name":"Đảng bộ xã Hưng Đạo","level":"grassroots_committee","kind":"commune","parent_id":"'$HN'","established_on":"2020-01-01"}' | jq -r .id)
post organizations '{"code":"TOUR'$S'.HN.HD.X1","name":"Chi bộ xóm 1","level":"cell","kind":"residential","parent_id":"'$XA'","established_on":"2020-01-01"}' | jq -c '{code, path}'

# 2. The district level is abolished: the commune's committee moves under Vinh on 2025-07-01.
post organizations/$XA/move '{"parent_id":"'$VINH'","effective_on":"2025-07-01","decision_no":"1234-QĐ/TU"}' | jq -c '{code, parent_id}'

# 3. The tree the day before and the day after differ exactly by that move.
get "organizations/$NA/tree?depth=3&as_of=2025-06-30" | jq -c '[.children[] | {code, children: [.children[].code]}]'
get "organizations/$NA/tree?depth=3&as_of=2025-07-02" | jq -c '[.children[] | {code, children: [.children[].code]}]'

# 4. The history keeps both states; search works without diacritics.
get "organizations/$XA/history" | jq -c '.items[] | {change, effective_on, decision_no, before, after}'
get "organizations?q=hung%20dao" | jq -c '[.items[].name]'

# 5. A member admitted into the cell, found by name without diacritics (sensitive fields stay out of lists).
CELL=$(get "organizations?within=$XA&level=cell" | jq -r '.items[0].id')
post members '{"full_name":"Nguyễn Thị Hoa","birth_date":"1990-03-15","gender":"female","org_id":"'$CELL'","admitted_on":"2024-05-19","national_id":"040190001234"}' | jq -c '{full_name, status}'
get "members?q=nguyen%20thi%20hoa" | jq -c '[.items[] | {full_name, national_id}]'

# 6. In another terminal, every change above as a CloudEvent:  .venv/bin/tochuc events tail --from-start
