<?php
// One customer's walk through PHP's SQLite3 driver, with libconsent.so
// loaded by SQLite3::loadExtension (from the folder named by the
// sqlite3.extension_dir setting). Prints `step|value|...` lines for
// extension/tests/drivers/php.rs to check.
//
// php -d sqlite3.extension_dir=DIR walk.php BILLING_DB

$db = new SQLite3($argv[1]);
$db->enableExceptions(true);
$db->busyTimeout(10000);
if (!$db->loadExtension('libconsent.so')) {
    fwrite(STDERR, "loadExtension failed\n");
    exit(1);
}

function row(SQLite3 $db, string $step, string $sql, array $params = []): void
{
    $stmt = $db->prepare($sql);
    foreach ($params as $i => $value) {
        $stmt->bindValue($i + 1, $value, is_int($value) ? SQLITE3_INTEGER : SQLITE3_TEXT);
    }
    $result = $stmt->execute();
    $values = $result->fetchArray(SQLITE3_NUM);
    $result->finalize();
    $stmt->close();
    echo $step, '|', implode('|', $values), "\n";
}

$status = 'SELECT consent_status(?1), consent_label(consent_status(?1))';
row($db, 'version', 'SELECT sqlite_version()');
row($db, 'missing', $status, [1]);
row($db, 'queue', 'SELECT consent_queue(?)', [1]);
row($db, 'queued', $status, [1]);
row($db, 'approve', 'SELECT consent_approve(?, ?)', [1, 'phoned the office']);
row($db, 'approved', $status, [1]);
row($db, 'revoke', 'SELECT consent_revoke(?, ?)', [1, 'customer wrote in']);
row($db, 'denied', $status, [1]);
try {
    row($db, 'unexpected', 'SELECT consent_queue(?)', [999]);
} catch (Exception $e) {
    echo 'unknown|', $e->getMessage(), "\n";
}
row($db, 'after', 'SELECT consent_status(?1), (SELECT count(*) FROM consent_event WHERE customer_id = ?1)', [1]);
echo 'closed|', $db->close() ? 'yes' : 'no', "\n";
