async def test_establish_and_read(small_tree):
    svc = small_tree.svc
    r = await svc.client.get(f"/v1/organizations/{small_tree.ids['NA.HD.XA.C1']}", headers=small_tree.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["path"] == [small_tree.ids[c] for c in ("NA", "NA.HD", "NA.HD.XA", "NA.HD.XA.C1")]
