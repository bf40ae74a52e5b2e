#!/usr/bin/env bash
# The five-minute tour of README.md (kept identical to it by tests/test_tour.py). Needs curl and jq.
set -euo pipefail
API=${API:-http://127.0.0.1:8000/api/v1}
TOKEN=$(.venv/bin/tochuc token --sub tour --role admin)
post() { curl -sf -X POST "$API/$1" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d "$2"; }
get() { curl -sf "$API/$1" -H "Authorization: Bearer $TOKEN"; }
# A service hears of another's records through events: a write naming them is retried for a moment.
soon() { for _ in $(seq 20); do post "$@" 2>/dev/null && return; sleep 0.5; done; post "$@"; }
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
MEMBER=$(post members '{"full_name":"Nguyễn Thị Hoa","birth_date":"1990-03-15","gender":"female","org_id":"'$CELL'","admitted_on":"2024-05-19","national_id":"040190001234"}' | jq -r .id)
get "members?q=nguyen%20thi%20hoa" | jq -c '[.items[] | {full_name, status, national_id}]'

# 6. In another terminal, every change as a CloudEvent:  .venv/bin/tochuc events tail --from-start

# 7. She becomes a cadre of Vinh and is appointed to its standing committee (a post needing advanced theory);
#    the rulebook's findings are acknowledged with a reason.
CADRE=$(soon cadres '{"full_name":"Nguyễn Thị Hoa","birth_date":"1990-03-15","gender":"female","org_id":"'$VINH'","education":"master","declared_theory_level":"intermediate","member_id":"'$MEMBER'"}' | jq -r .id)
POST=$(post posts '{"org_id":"'$VINH'","title":"Ủy viên Ban Thường vụ Thành ủy","category":"standing_member","requirements":{"theory_level":"advanced"}}' | jq -r .id)
post personnel-actions '{"kind":"appointment","cadre_id":"'$CADRE'","post_id":"'$POST'","decision_no":"88-QĐ/TU","decided_on":"2025-08-01","effective_on":"2025-08-15","acknowledged_findings":{"reason":"Ban Thường vụ Tỉnh ủy quyết định"}}' | jq -c '{kind: .action.kind, findings: [.findings[].rule]}'

# 8. Training: an advanced political theory programme, a course, and Vinh sends her to it.
PROG=$(post programmes '{"code":"CC'$S'","name":"Cao cấp lý luận chính trị","kind":"political_theory","theory_level":"advanced","duration_months":8}' | jq -r .id)
COURSE=$(post courses '{"programme_id":"'$PROG'","code":"CC'$S'-K1","name":"Lớp cao cấp K1","provider":"Học viện Chính trị khu vực III","mode":"in_service","starts_on":"2025-10-01","ends_on":"2026-06-30","capacity":60}' | jq -r .id)
soon enrollments '{"course_id":"'$COURSE'","cadre_id":"'$CADRE'","sent_by_org_id":"'$VINH'","sent_on":"2025-09-20"}' | jq -c '{status: .enrollment.status, findings}'

# 9. Composed by the gateway: her profile (cadres + orgs + training), Vinh's overview, the sector report.
get "cadres/$CADRE/profile" | jq -c '{partial, member: .data.member.status, posts: [.data.assignments[] | [.org_path[].name, .post.title] | join(" › ")], enrollments: [.data.enrollments[] | {theory_level, status}], needs: [.data.training_needs[].required_theory_level]}'
get "organizations/$VINH/overview" | jq -c '{partial, members: .data.stats.members_by_status, under: .data.stats.descendants_by_level, posts: .data.posts | {seats, holders, vacant}}'
get "reports/sector?from=2024-01-01&to=2025-12-31&within=$NA" | jq -c '{partial, admitted: .data.members.admitted_total, appointed: .data.personnel.cadres_moved_or_appointed, sent: .data.training.cadres_sent_by_theory_level}'
XLSX=${TMPDIR:-/tmp}/bao-cao-nganh-$S.xlsx
curl -sf "$API/reports/sector?from=2024-01-01&to=2025-12-31&within=$NA&format=xlsx" -H "Authorization: Bearer $TOKEN" -o "$XLSX"
file -b "$XLSX" && stat -c '%s bytes' "$XLSX"
