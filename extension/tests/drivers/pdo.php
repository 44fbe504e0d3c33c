<?php
// A billing application on PHP's PDO, which cannot load libconsent.so: it
// asks for consent by inserting commands into consent_command and reads
// statuses from the consent_statuses view, with plain SQL. `consent-portal
// sync` applies the commands. Driven by portal/tests/pipeline/pdo_program.rs;
// prints `what|value|...` lines.
//
// php pdo.php BILLING_DB probe
// php pdo.php BILLING_DB command CUSTOMER_ID COMMAND [NOTE]
// php pdo.php BILLING_DB statuses
// php pdo.php BILLING_DB commands

$db = new PDO('sqlite:' . $argv[1]);
$db->setAttribute(PDO::ATTR_ERRMODE, PDO::ERRMODE_EXCEPTION);
$db->setAttribute(PDO::ATTR_TIMEOUT, 10);

switch ($argv[2]) {
    case 'probe':
        // The SQLite PDO runs, and that the functions are not there.
        echo 'version|', $db->query('SELECT sqlite_version()')->fetchColumn(), "\n";
        try {
            $db->query('SELECT consent_status(1)');
            echo "functions|present\n";
        } catch (PDOException $e) {
            echo 'functions|', $e->getMessage(), "\n";
        }
        break;
    case 'command':
        $insert = $db->prepare('INSERT INTO consent_command (customer_id, command, note) VALUES (?, ?, ?)');
        $insert->bindValue(1, (int) $argv[3], PDO::PARAM_INT);
        $insert->bindValue(2, $argv[4]);
        $insert->bindValue(3, $argv[5] ?? null, isset($argv[5]) ? PDO::PARAM_STR : PDO::PARAM_NULL);
        $insert->execute();
        echo 'command|', $db->lastInsertId(), "\n";
        break;
    case 'statuses':
        // Every customer of the billing table; one the view does not list
        // was never asked.
        $rows = $db->query(
            "SELECT k.nr, coalesce(s.status, 'missing'), coalesce(s.label, '')
             FROM kunder AS k LEFT JOIN consent_statuses AS s ON s.customer_id = k.nr
             ORDER BY k.nr"
        );
        foreach ($rows->fetchAll(PDO::FETCH_NUM) as $row) {
            echo 'status|', implode('|', $row), "\n";
        }
        break;
    case 'commands':
        $rows = $db->query(
            'SELECT id, customer_id, command, coalesce(outcome, \'pending\'),
                    coalesce(status_after, \'\'), coalesce(refusal, \'\')
             FROM consent_command ORDER BY id'
        );
        foreach ($rows->fetchAll(PDO::FETCH_NUM) as $row) {
            echo 'command|', implode('|', $row), "\n";
        }
        break;
    default:
        fwrite(STDERR, "unknown step {$argv[2]}\n");
        exit(2);
}
